import { availableParallelism } from "node:os";
import { executeSteps, type StepOutcome } from "./engine/execute";
import { copyToRemoteProvider, remoteCommandProvider } from "./engine/providers";
import type { StackState, Step } from "./engine/types";
import { urnName } from "./engine/urn";
import { countSteps } from "./plan-text";
import { redact } from "./redact";
import type { StateFile } from "./engine/state-file";

/** The engine's default: 4 x GOMAXPROCS (pkg/cmd/pulumi/operations/up.go defaultParallel). */
export const DEFAULT_PARALLEL = 4 * availableParallelism();

const RESULT_LINE = /^sparks-result: (changed|unchanged)$/;

/** What `--json` prints after plan and apply: the step counts, the resources in each, what ran. */
export interface RunSummary {
  stack: string;
  operation: "update" | "destroy";
  counts: Record<Step["kind"], number>;
  /** Resource names per step kind; `same` too, so a test can see what was left alone. */
  steps: Record<Step["kind"], string[]>;
  /** apply only: commands that ran, those whose script changed the host, and failures. */
  ran?: string[];
  changed?: string[];
  failed?: { name: string; error: string }[];
  /** Steps not started because an earlier one failed. */
  skipped?: string[];
  seconds?: number;
}

export function planSummary(stack: string, operation: RunSummary["operation"], steps: readonly Step[]): RunSummary {
  const byKind = { same: [], create: [], update: [], replace: [], delete: [] } as Record<Step["kind"], string[]>;
  for (const step of steps) byKind[step.kind].push(urnName(step.urn));
  return { stack, operation, counts: countSteps(steps), steps: byKind };
}

export interface ApplyOptions {
  stack: string;
  operation: RunSummary["operation"];
  parallel: number;
  stateFile: StateFile;
  state: StackState;
  secrets: string[];
  log: (line: string) => void;
}

/** Runs the steps on the hosts, writing the state after each, and sums up what happened. */
export async function applySteps(steps: readonly Step[], options: ApplyOptions): Promise<RunSummary> {
  const started = Date.now();
  const log = (line: string) => options.log(redact(line, options.secrets));
  const outcomeOf = new Map<string, "changed" | "unchanged">();
  const providers = {
    "command:remote:Command": remoteCommandProvider({
      output: (urn, line) => {
        const result = RESULT_LINE.exec(line);
        if (result) outcomeOf.set(urn, result[1] as "changed" | "unchanged");
        else log(`  │ ${urnName(urn)}: ${line}`);
      },
    }),
    "command:remote:CopyToRemote": copyToRemoteProvider(),
  };
  const outcomes = await executeSteps(steps, options.state, {
    parallel: options.parallel,
    providers,
    checkpoint: async (state) => options.stateFile.write(state),
    log,
  });
  for (const outcome of outcomes) logOutcome(outcome, outcomeOf.get(outcome.step.urn), log);
  const ran = outcomes.filter((o) => o.operations.length > 0);
  const summary: RunSummary = {
    ...planSummary(options.stack, options.operation, steps),
    ran: ran.map((o) => urnName(o.step.urn)),
    // A CopyToRemote prints no result line: a copy that ran changed the host.
    changed: ran.filter((o) => o.status === "done" && outcomeOf.get(o.step.urn) !== "unchanged").map((o) => urnName(o.step.urn)),
    failed: outcomes.filter((o) => o.status === "failed").map((o) => ({ name: urnName(o.step.urn), error: redact(o.error ?? "", options.secrets) })),
    skipped: outcomes.filter((o) => o.status === "skipped").map((o) => urnName(o.step.urn)),
    seconds: (Date.now() - started) / 1000,
  };
  return summary;
}

function logOutcome(outcome: StepOutcome, result: "changed" | "unchanged" | undefined, log: (line: string) => void): void {
  const { step } = outcome;
  const name = urnName(step.urn);
  const took = `${outcome.seconds.toFixed(1)}s`;
  if (outcome.status === "failed") log(`✗ ${name}: ${step.kind} failed (${took}): ${outcome.error}`);
  else if (outcome.status === "skipped") log(`· ${name}: ${step.kind} not started, an earlier step failed`);
  else if (step.kind !== "same" && outcome.operations.length === 0 && step.retained) log(`- ${name}: retainOnDelete, left in place`);
  else if (outcome.operations.length > 0) log(`✓ ${name}: ${result ?? "changed"} (${outcome.operations.join(" then ")}, ${took})`);
}

/** The closing line of an apply, for people and for the tests that read it. */
export function closingLine(summary: RunSummary): string {
  const ran = summary.ran?.length ?? 0;
  const changed = summary.changed?.length ?? 0;
  const failed = summary.failed ?? [];
  const failedRunning = failed.filter((f) => summary.ran?.includes(f.name)).length;
  const counts = (["same", "create", "update", "replace", "delete"] as const).map((kind) => `${summary.counts[kind]} ${kind}`).join(", ");
  const head = failed.length > 0 ? `FAILED at ${failed.map((f) => f.name).join(", ")}` : "done";
  return `${head}: ${ran} ran, ${changed} changed, ${ran - changed - failedRunning} unchanged; steps: ${counts} in ${(summary.seconds ?? 0).toFixed(1)}s`;
}
