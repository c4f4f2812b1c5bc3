import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { runCli } from "../lib/run-cli";
import { userPath } from "../lib/user-path";
import { ConfigValidationError } from "../stacks/validate";
import { stackManifestPath } from "../verify/load-manifest";
import { defaultStatePath, StateFile } from "./engine/state-file";
import { planDestroy, planUpdate } from "./engine/steps";
import type { StackState, Step } from "./engine/types";
import { urnName } from "./engine/urn";
import { secretStrings } from "./engine/values";
import { evaluateStack } from "./evaluate";
import { renderPlan } from "./plan-text";
import { applySteps, closingLine, DEFAULT_PARALLEL, planSummary } from "./run";
import { readStackConfig, withPlaceholdersForUnsetSecrets } from "./stack-file";

const USAGE = `usage: npm run plan -- --stack NAME [--destroy [--exclude-protected]] [--replace NAME ...] [--full] [--json] [--state FILE] [--config-file FILE]
       npm run apply -- --stack NAME [--destroy [--exclude-protected]] [--replace NAME ...] [--parallel N] [--json]
                        [--state FILE] [--config-file FILE] [--secret KEY=FILE ...] [--manifest-out FILE]

The steps pulumi up (or destroy) would take against the stack's state: plan shows them, apply runs them.
  --destroy            every resource in the state, dependents first (pulumi destroy)
  --exclude-protected  with --destroy: keep protected resources and what they depend on
  --replace NAME       replace this resource even if unchanged (pulumi up --replace URN); a URN or a resource name
  --parallel N         at most N operations at once (default ${DEFAULT_PARALLEL}, as the engine's 4 x CPUs)
  --json               print only a summary (counts and resources per step kind; for apply what ran) on stdout
  --state FILE         the state to read and write (default .sparks/NAME/state.json)
  --config-file FILE   stack config to read instead of Pulumi.NAME.yaml
  --secret KEY=FILE    a secret's value from a file, for the secure: values only the Pulumi CLI decrypts;
                       KEY is a config key (sshPrivateKey) or a path in one (hosts[0].ssh.privateKey)
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
      "exclude-protected": { type: "boolean", default: false },
      replace: { type: "string", multiple: true, default: [] },
      parallel: { type: "string" },
      json: { type: "boolean", default: false },
      full: { type: "boolean", default: false },
      state: { type: "string" },
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
  if (values["exclude-protected"] && !values.destroy) throw new UsageError("--exclude-protected goes with --destroy");
  if (values.destroy && values.replace.length > 0) throw new UsageError("--replace goes with an update, not --destroy");
  const parallel = values.parallel === undefined ? DEFAULT_PARALLEL : Number(values.parallel);
  if (!Number.isInteger(parallel) || parallel < 1) throw new UsageError(`--parallel ${values.parallel}: expected a whole number >= 1`);
  const stack = values.stack;
  const stateFile = new StateFile(values.state === undefined ? defaultStatePath(stack) : userPath(values.state), stack);
  const state = withoutStalePendingOperations(stateFile.read(), (line) => console.error(line));
  // What goes to stdout: the human log, or with --json only the summary (the log goes to stderr then).
  const say = values.json ? (line: string) => console.error(line) : (line: string) => console.log(line);

  let steps: Step[];
  let secrets = state.resources.flatMap((resource) => secretStrings(resource.inputs));
  let manifest: unknown;
  if (values.destroy) {
    // pulumi destroy runs no program: it deletes what the state holds.
    steps = planDestroy(state, { excludeProtected: values["exclude-protected"] });
  } else {
    const secretFiles = Object.fromEntries(values.secret.map(parseSecretFlag));
    const configFile = values["config-file"] === undefined ? undefined : userPath(values["config-file"]);
    const config = readStackConfig(stack, { configFile, secretFiles });
    if (mode === "plan") withPlaceholdersForUnsetSecrets(config);
    else if (config.undecrypted.length > 0) {
      console.error(`apply: cannot decrypt ${config.undecrypted.join(", ")} (only the Pulumi CLI can); pass each with --secret KEY=FILE, or deploy with pulumi up`);
      return 2;
    }
    const evaluated = await evaluateStack(stack, config);
    secrets = [...secrets, ...config.secretValues, ...evaluated.goals.flatMap((goal) => secretStrings(goal.inputs))];
    steps = planUpdate(state, evaluated.goals, { replace: values.replace.map((target) => resolveTarget(target, evaluated.goals)) });
    manifest = evaluated.manifest;
  }
  const operation = values.destroy ? "destroy" : "update";

  if (mode === "plan") {
    if (values.json) process.stdout.write(`${JSON.stringify(planSummary(stack, operation, steps), null, 2)}\n`);
    else process.stdout.write(renderPlan(steps, { full: values.full, secrets }));
    return steps.some((step) => step.refused && step.kind !== "delete") ? 1 : 0;
  }

  if (manifest !== undefined) writeManifest(values["manifest-out"] === undefined ? stackManifestPath(stack) : userPath(values["manifest-out"]), manifest);
  say(`${operation} stack ${stack}: ${steps.filter((s) => s.kind !== "same").length} of ${steps.length} resources to change, state ${stateFile.file}`);
  const summary = await applySteps(steps, { stack, operation, parallel, stateFile, state, secrets, log: say });
  say(closingLine(summary));
  if (values.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  return (summary.failed ?? []).length > 0 ? 1 : 0;
}

/**
 * Operations a killed run left open: the engine warns that those resources are in an unknown state
 * and drops the records, so a create that may have happened runs again (pkg/engine/update.go,
 * "pending operations"). The host scripts are idempotent, which makes that safe.
 */
function withoutStalePendingOperations(state: StackState, warn: (line: string) => void): StackState {
  if (state.pendingOperations.length === 0) return state;
  for (const operation of state.pendingOperations) warn(`warning: the last run was interrupted while ${operation.kind} ${operation.urn}; its state is unknown`);
  return { ...state, pendingOperations: [] };
}

/** A `--replace` target: a URN, or the name of exactly one registered resource. */
function resolveTarget(target: string, goals: readonly { urn: string }[]): string {
  if (target.startsWith("urn:")) {
    if (!goals.some((goal) => goal.urn === target)) throw new UsageError(`--replace ${target}: no such resource in the program`);
    return target;
  }
  const matches = goals.filter((goal) => urnName(goal.urn) === target);
  if (matches.length !== 1) throw new UsageError(`--replace ${target}: ${matches.length === 0 ? "no resource of that name" : "several resources of that name; give the URN"}`);
  return matches[0].urn;
}

function parseSecretFlag(flag: string): [string, string] {
  const at = flag.indexOf("=");
  if (at <= 0 || at === flag.length - 1) throw new UsageError(`--secret ${flag}: expected KEY=FILE`);
  return [flag.slice(0, at), userPath(flag.slice(at + 1))];
}

function writeManifest(file: string, manifest: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

class UsageError extends Error {}

runCli(main, [ConfigValidationError, UsageError]);
