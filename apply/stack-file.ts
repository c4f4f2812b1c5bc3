import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { projectRoot } from "../lib/project-root";

/** A stack's config as the Pulumi engine hands it to the program: `project:key` -> string. */
export interface StackConfigMap {
  values: Record<string, string>;
  /** Keys whose values are secrets. */
  secretKeys: string[];
  /** Secret keys whose value is Pulumi-encrypted (`secure:`) and was not provided another way. */
  undecrypted: string[];
}

/** `--secret KEY=FILE`: a secret's value read from a file (absolute path), for secrets apply cannot decrypt. */
export type SecretFiles = Record<string, string>;

/**
 * Reads `Pulumi.<stack>.yaml` at the project root (or `configFile`, an absolute path) the way the
 * engine would pass it to the program. Encrypted `secure:` values need the stack's secrets
 * provider, which only the Pulumi CLI has: they are taken from `secretFiles` when given, else left
 * as a redacted placeholder and listed.
 */
export function readStackConfig(stack: string, options: { configFile?: string; secretFiles?: SecretFiles } = {}): StackConfigMap {
  const file = options.configFile ?? path.join(projectRoot(), `Pulumi.${stack}.yaml`);
  const document = (parse(readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const values: Record<string, string> = {};
  const secretKeys = new Set<string>();
  const encrypted: string[] = [];
  for (const [key, value] of Object.entries(document.config ?? {})) {
    if (isSecure(value)) {
      secretKeys.add(key);
      encrypted.push(key);
      values[key] = "[secret]";
    } else {
      values[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  const provided = Object.fromEntries(
    Object.entries(options.secretFiles ?? {}).map(([name, file]) => [name.includes(":") ? name : `sparks:${name}`, file]),
  );
  for (const [key, secretFile] of Object.entries(provided)) {
    values[key] = readFileSync(secretFile, "utf8");
    secretKeys.add(key);
  }
  const undecrypted = encrypted.filter((key) => !(key in provided));
  return { values, secretKeys: [...secretKeys], undecrypted };
}

function isSecure(value: unknown): boolean {
  return typeof value === "object" && value !== null && "secure" in value;
}
