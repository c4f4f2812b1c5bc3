import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { projectRoot } from "../lib/project-root";
import { userPath } from "../lib/user-path";
import { ConfigValidationError } from "../stacks/validate";
import { stackManifestPath } from "../verify/load-manifest";
import { evaluateStack } from "./evaluate";
import { renderPlan } from "./plan-text";
import { redact } from "./redact";
import { runCommands } from "./run";
import { readStackConfig, type StackConfigMap } from "./stack-file";

const USAGE = `usage: npm run plan -- --stack NAME [--destroy] [--full] [--config-file FILE]
       npm run apply -- --stack NAME [--destroy] [--config-file FILE] [--secret KEY=FILE ...] [--manifest-out FILE]

  --config-file FILE   stack config to read instead of Pulumi.NAME.yaml
  --secret KEY=FILE    a secret's value from a file, for the secure: values only the Pulumi CLI decrypts
  --manifest-out FILE  where apply writes the verify manifest (default .sparks/NAME/verify-manifest.json,
                       which verify --stack NAME reads); destroy writes none

Relative paths are taken from the directory npm was run in.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      stack: { type: "string" },
      destroy: { type: "boolean", default: false },
      full: { type: "boolean", default: false },
      "config-file": { type: "string" },
      secret: { type: "string", multiple: true, default: [] },
      "manifest-out": { type: "string" },
    },
  });
  const mode = positionals[0];
  if ((mode !== "plan" && mode !== "apply") || !values.stack || positionals.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  if (mode === "plan" && values["manifest-out"] !== undefined) throw new UsageError("--manifest-out: plan writes no manifest");
  const stack = values.stack;
  const secretFiles = Object.fromEntries(values.secret.map(parseSecretFlag));
  const configFile = values["config-file"] === undefined ? undefined : userPath(values["config-file"]);
  const manifestFile = values["manifest-out"] === undefined ? stackManifestPath(stack) : userPath(values["manifest-out"]);
  const config = readStackConfig(stack, { configFile, secretFiles });
  if (mode === "plan") withPlaceholdersForUnsetSecrets(config);
  else if (config.undecrypted.length > 0) {
    console.error(
      `apply: cannot decrypt ${config.undecrypted.join(", ")} (only the Pulumi CLI can); pass each with --secret KEY=FILE, or deploy with pulumi up`,
    );
    return 2;
  }

  const evaluated = await evaluateStack(stack, config);
  const secrets = config.secretKeys.map((key) => config.values[key]);
  if (mode === "plan") {
    process.stdout.write(renderPlan(evaluated.commands, { destroy: values.destroy, full: values.full, secrets }));
    return 0;
  }

  if (!values.destroy) writeManifest(manifestFile, evaluated.manifest);
  const log = (line: string) => console.log(redact(line, secrets));
  console.log(`${values.destroy ? "destroy" : "apply"} stack ${stack}: ${evaluated.commands.length} commands`);
  const summary = await runCommands(evaluated.commands, { destroy: values.destroy, log });
  const unchanged = summary.ran - summary.changed - (summary.failed ? 1 : 0);
  const skipped = summary.skipped > 0 ? `, ${summary.skipped} skipped` : "";
  console.log(
    `${summary.failed ? `FAILED at ${summary.failed}` : "done"}: ${summary.ran} ran, ${summary.changed} changed, ${unchanged} unchanged${skipped} in ${summary.seconds.toFixed(1)}s`,
  );
  return summary.failed ? 1 : 0;
}

function parseSecretFlag(flag: string): [string, string] {
  const at = flag.indexOf("=");
  if (at <= 0 || at === flag.length - 1) throw new UsageError(`--secret ${flag}: expected KEY=FILE`);
  return [flag.slice(0, at), userPath(flag.slice(at + 1))];
}

/**
 * A plan shows what would run without secrets, so a secret the project declares but the stack file
 * does not hold (operators set it with `pulumi config set --secret`) is a redacted placeholder.
 */
function withPlaceholdersForUnsetSecrets(config: StackConfigMap): void {
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

function writeManifest(file: string, manifest: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

class UsageError extends Error {}

// A pipe takes stdout asynchronously, and process.exit drops what is still queued (a --full plan
// carrying the host tools is far larger than one pipe buffer): exit once it has been handed over.
const exitAfterOutput = (code: number) => process.stdout.write("", () => process.exit(code));

main(process.argv.slice(2)).then(
  (code) => exitAfterOutput(code),
  (error: unknown) => {
    if (error instanceof ConfigValidationError || error instanceof UsageError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error(error);
    process.exit(1);
  },
);
