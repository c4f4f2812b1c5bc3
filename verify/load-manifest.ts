import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import Ajv from "ajv";
import { hostKeyBlob } from "../lib/host-key";
import { projectRoot } from "../lib/project-root";
import { describeAjvError, type PathError } from "../lib/schema-errors";
import type { VerifyManifest } from "./manifest";
import { verifyManifestSchema } from "./manifest-schema";

/** One broken rule, located by its path in the manifest, e.g. `hosts[0].btrfsVolumes[1].mountpoint`. */
export type ManifestProblem = PathError;

export class ManifestError extends Error {
  constructor(
    readonly source: string,
    readonly problems: ManifestProblem[],
  ) {
    super(
      `invalid verify manifest ${source} (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  ${p.path}: ${p.message}`).join("\n"),
    );
    this.name = "ManifestError";
  }
}

/** A manifest that cannot be found or read at all; `message` says what to do instead. */
export class ManifestNotFoundError extends Error {
  override name = "ManifestNotFoundError";
}

const ajv = new Ajv({ allErrors: true, strict: true });
const validateSchema = ajv.compile(verifyManifestSchema);

/** Checks a parsed document against the schema and the cross-field rules; `source` names it in errors. */
export function validateManifest(raw: unknown, source: string): VerifyManifest {
  if (!validateSchema(raw)) throw new ManifestError(source, (validateSchema.errors ?? []).map(describeAjvError));
  const problems = crossFieldProblems(raw);
  if (problems.length > 0) throw new ManifestError(source, problems);
  return raw;
}

export function loadManifestFile(file: string): VerifyManifest {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ManifestNotFoundError(`cannot read manifest ${file}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(file, [{ path: "(root)", message: `not JSON: ${(error as Error).message}` }]);
  }
  return validateManifest(raw, file);
}

/**
 * Where `apply` leaves a stack's manifest unless told otherwise (`--manifest-out`), and where
 * `verify --stack` reads it: `.sparks/<stack>/verify-manifest.json` under the project root.
 */
export function stackManifestPath(stack: string, root: string = projectRoot()): string {
  return path.join(root, ".sparks", stack, "verify-manifest.json");
}

export function loadStackManifest(stack: string, root: string = projectRoot()): { file: string; manifest: VerifyManifest } {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(stack)) {
    throw new ManifestNotFoundError(`invalid stack name "${stack}": letters, digits, '.', '_' and '-' only`);
  }
  const file = stackManifestPath(stack, root);
  if (!existsSync(file)) {
    throw new ManifestNotFoundError(
      `no manifest for stack ${stack}: run npm run apply -- --stack ${stack}, or pass --manifest ` +
        "(e.g. from `pulumi stack output --json verifyManifest`)",
    );
  }
  return { file, manifest: loadManifestFile(file) };
}

function crossFieldProblems(manifest: VerifyManifest): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const unique = (values: string[], at: (index: number) => string, what: string) =>
    values.forEach((value, index) => {
      if (values.indexOf(value) !== index) problems.push({ path: at(index), message: `duplicate ${what} "${value}"` });
    });

  unique(manifest.hosts.map((h) => h.name), (i) => `hosts[${i}].name`, "host name");
  manifest.hosts.forEach((host, h) => {
    try {
      hostKeyBlob(host.ssh.hostKey);
    } catch (error) {
      problems.push({ path: `hosts[${h}].ssh.hostKey`, message: (error as Error).message });
    }
    const volumes = host.btrfsVolumes;
    const volumePath = (v: number) => `hosts[${h}].btrfsVolumes[${v}]`;
    unique(volumes.map((v) => v.name), (v) => `${volumePath(v)}.name`, "volume name");
    unique(volumes.map((v) => v.mountpoint), (v) => `${volumePath(v)}.mountpoint`, "mountpoint");
    volumes.forEach((volume, v) => {
      unique(volume.subvolumes.map((s) => s.name), (s) => `${volumePath(v)}.subvolumes[${s}].name`, "subvolume name");
      volume.subvolumes.forEach((subvolume, s) => {
        if (subvolume.limitBytes !== null && !volume.quotas) {
          problems.push({
            path: `${volumePath(v)}.subvolumes[${s}].limitBytes`,
            message: "a limit needs quotas: true on its volume",
          });
        }
      });
    });
  });
  return problems;
}
