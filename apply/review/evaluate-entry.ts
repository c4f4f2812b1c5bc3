// Evaluates the program of one checkout for one stack with that checkout's own code, and writes
// what a review compares as JSON (EvaluatedSide, apply/review/evaluate-rev.ts):
//   tsx apply/review/evaluate-entry.ts ROOT STACK OUT_FILE [CONFIG_FILE]
// CONFIG_FILE: the stack config to read instead of ROOT/Pulumi.STACK.yaml.
// Run with ROOT as the working directory: the program names its bundle relative to it.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { ARCHIVE_SIG, ASSET_SIG, SIG_KEY } from "../engine/values";

async function main([root, stack, outFile, configFile]: string[]): Promise<void> {
  // The checkout's own modules: a base revision is evaluated with its code, not this work tree's.
  const { readStackConfig } = require(path.join(root, "apply/stack-file")) as typeof import("../stack-file");
  const { evaluateStack } = require(path.join(root, "apply/evaluate")) as typeof import("../evaluate");
  const config = readStackConfig(stack, { configFile: configFile ?? path.join(root, `Pulumi.${stack}.yaml`) });
  // As a plan does: a secret the project declares and the stack file does not hold is a placeholder.
  const project = parse(readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { config?: Record<string, { secret?: boolean }> };
  for (const [name, declaration] of Object.entries(project.config ?? {})) {
    const key = `sparks:${name}`;
    if (declaration.secret && !(key in config.values)) {
      config.values[key] = "[secret]";
      config.secretKeys.push(key);
    }
  }
  const { goals, outputs } = await evaluateStack(stack, config);
  const archives: Record<string, Record<string, string>> = {};
  for (const file of shippedPaths(goals.map((goal) => goal.inputs))) archives[file] ??= readShipped(path.resolve(root, file));
  writeFileSync(outFile, JSON.stringify({ goals, outputs, archives, secretValues: config.secretValues }));
}

/** The paths of every file asset and archive the resources ship (the bundle's CopyToRemote). */
function shippedPaths(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(shippedPaths);
  if (value === null || typeof value !== "object") return [];
  const wire = value as Record<string, unknown>;
  if ((wire[SIG_KEY] === ASSET_SIG || wire[SIG_KEY] === ARCHIVE_SIG) && typeof wire.path === "string") return [wire.path];
  return Object.values(wire).flatMap(shippedPaths);
}

function readShipped(file: string, prefix = ""): Record<string, string> {
  if (!statSync(file).isDirectory()) return { [prefix || path.basename(file)]: readFileSync(file, "utf8") };
  const files: Record<string, string> = {};
  for (const entry of readdirSync(file).sort()) Object.assign(files, readShipped(path.join(file, entry), prefix ? `${prefix}/${entry}` : entry));
  return files;
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error && error.constructor.name === "ConfigValidationError" ? error.message : error);
    process.exit(1);
  },
);
