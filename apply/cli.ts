import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { ConfigValidationError } from "../stacks/validate";
import { evaluateStack } from "./evaluate";
import { renderPlan } from "./plan-text";
import { redact } from "./redact";
import { runCommands } from "./run";
import { PROJECT_ROOT, readStackConfig, type StackConfigMap } from "./stack-file";

const USAGE = `usage: npm run plan -- --stack NAME [--destroy] [--full] [--config-file FILE]
       npm run apply -- --stack NAME [--destroy] [--config-file FILE] [--secret KEY=FILE ...]`;

/** Where apply leaves the verify manifest of a stack; verify --stack reads it from there. */
export function manifestPath(stack: string): string {
  return path.join(PROJECT_ROOT, ".sparks", stack, "verify-manifest.json");
}

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
    },
  });
  const mode = positionals[0];
  if ((mode !== "plan" && mode !== "apply") || !values.stack || positionals.length !== 1) {
    console.error(USAGE);
    return 2;
  }
  const stack = values.stack;
  const secretFiles = Object.fromEntries(values.secret.map(parseSecretFlag));
  const config = readStackConfig(stack, { configFile: values["config-file"], secretFiles });
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

  if (!values.destroy) writeManifest(stack, evaluated.manifest);
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
  if (at <= 0) throw new UsageError(`--secret ${flag}: expected KEY=FILE`);
  return [flag.slice(0, at), flag.slice(at + 1)];
}

/**
 * A plan shows what would run without secrets, so a secret the project declares but the stack file
 * does not hold (operators set it with `pulumi config set --secret`) is a redacted placeholder.
 */
function withPlaceholdersForUnsetSecrets(config: StackConfigMap): void {
  const project = parse(readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8")) as {
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

function writeManifest(stack: string, manifest: unknown): void {
  const file = manifestPath(stack);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigValidationError || error instanceof UsageError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error(error);
    process.exit(1);
  },
);
