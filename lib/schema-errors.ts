import type { ErrorObject } from "ajv";

/** One broken rule of a JSON document, located by its dotted path, e.g. `hosts[1].btrfs.volumes[0].device`. */
export interface PathError {
  path: string;
  message: string;
}

/** `/hosts/1/btrfs/volumes/0/device` -> `hosts[1].btrfs.volumes[0].device` */
export function toDottedPath(instancePath: string): string {
  return instancePath
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : path === "" ? part : `${path}.${part}`), "");
}

/** An ajv error as an operator reads it: the key's own path (for unknown and missing keys too) and the rule. */
export function describeAjvError(error: ErrorObject): PathError {
  const path = toDottedPath(error.instancePath);
  const join = (key: string) => (path === "" ? key : `${path}.${key}`);
  switch (error.keyword) {
    case "additionalProperties":
      return { path: join(error.params.additionalProperty), message: "unknown key" };
    case "required":
      return { path: join(error.params.missingProperty), message: "is required" };
    case "pattern":
      return { path, message: `must match ${error.params.pattern}` };
    case "enum":
      return { path, message: `must be one of: ${(error.params.allowedValues as unknown[]).join(", ")}` };
    default:
      return { path: path === "" ? "(root)" : path, message: error.message ?? error.keyword };
  }
}
