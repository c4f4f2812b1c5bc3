import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { projectRoot } from "../lib/project-root";
import { misplacedSecrets, secureLeafPaths, setAtPath } from "../stacks/secret-paths";
import { ConfigValidationError } from "../stacks/validate";

/** A stack's config as the Pulumi engine hands it to the program: `project:key` -> string. */
export interface StackConfigMap {
  values: Record<string, string>;
  /** Keys whose values are secrets. */
  secretKeys: string[];
  /** Secret keys (or paths inside one) whose value is Pulumi-encrypted (`secure:`) and was not provided another way. */
  undecrypted: string[];
  /** Every secret value provided, whole keys and values at paths: what output must never show. */
  secretValues: string[];
}

/**
 * `--secret KEY=FILE`: a secret's value read from a file (absolute path), for secrets apply cannot
 * decrypt; KEY is a config key or a path inside one (`hosts[0].ssh.privateKey`).
 */
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
  const secretValues: string[] = [];
  const provided = Object.fromEntries(
    Object.entries(options.secretFiles ?? {}).map(([name, file]) => [name.includes(":") ? name : `sparks:${name}`, readFileSync(file, "utf8")]),
  );
  const misplaced: { path: string; message: string }[] = [];
  for (const [key, value] of Object.entries(document.config ?? {})) {
    if (isSecure(value)) {
      secretKeys.add(key);
      encrypted.push(key);
      values[key] = "[secret]";
      continue;
    }
    // A secret at a path (pulumi config set --secret --path): the engine hands the program the
    // whole key, marked secret, with the value in place.
    const name = key.slice(key.indexOf(":") + 1);
    const leaves = secureLeafPaths(value, name);
    misplaced.push(...misplacedSecrets(leaves));
    for (const leaf of leaves) {
      secretKeys.add(key);
      const plain = provided[`sparks:${leaf}`];
      if (plain === undefined) encrypted.push(`sparks:${leaf}`);
      else secretValues.push(plain);
      setAtPath({ [name]: value }, leaf, plain ?? "[secret]");
    }
    values[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  if (misplaced.length > 0) throw new ConfigValidationError(misplaced);
  for (const [key, plain] of Object.entries(provided)) {
    if (/[.[]/.test(key)) continue;
    values[key] = plain;
    secretKeys.add(key);
    secretValues.push(plain);
  }
  const undecrypted = encrypted.filter((key) => !(key in provided));
  return { values, secretKeys: [...secretKeys], undecrypted, secretValues };
}

function isSecure(value: unknown): boolean {
  return typeof value === "object" && value !== null && "secure" in value;
}

/**
 * A plan shows what would run without secrets, so a secret the project declares but the stack file
 * does not hold (operators set it with `pulumi config set --secret`) is a redacted placeholder.
 */
export function withPlaceholdersForUnsetSecrets(config: StackConfigMap): void {
  const project = parse(readFileSync(path.join(projectRoot(), "Pulumi.yaml"), "utf8")) as {
    config?: Record<string, { secret?: boolean }>;
  };
  for (const [name, declaration] of Object.entries(project.config ?? {})) {
    const key = `sparks:${name}`;
    if (declaration.secret && !(key in config.values)) {
      config.values[key] = "[secret]";
      config.secretKeys.push(key);
    }
  }
}
