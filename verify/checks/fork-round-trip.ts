import { command } from "../../lib/shell-quote";
import type { CheckResult, Exec, PlannedCheck } from "../types";
import { commandError, fail, pass, skip } from "./result";
import { parseStatus } from "./service-instance";

/** A scratch fork expires on its own if verify dies before destroying it. */
const FORK_TTL = "10m";
/** `TOOL status NAME` of an instance that does not exist. */
export const NOT_FOUND = 3;

/** What a tool's client does at each step, given the port of the instance it talks to; each step reports its own check. */
export interface ForkProbes {
  /** The fork answers with its own credentials. */
  answers(forkPort: number, check: PlannedCheck): Promise<CheckResult>;
  /** A write in the fork reads back. */
  write(forkPort: number, check: PlannedCheck): Promise<CheckResult>;
  /** The source has not seen the fork's write. */
  sourceUnchanged(sourcePort: number, check: PlannedCheck): Promise<CheckResult>;
}

/**
 * A fork round trip through a spark tool (spark-pg, spark-redis): fork the source to a scratch name
 * (with a TTL), probe the fork and then the source, destroy the fork. `planned` are the four deep
 * checks in that order. A failed step skips the steps that need it; the fork is destroyed
 * whatever step fails.
 */
export async function checkForkRoundTrip(
  exec: Exec,
  tool: string,
  sudo: string[],
  source: string,
  fork: string,
  planned: PlannedCheck[],
  probes: ForkProbes,
): Promise<CheckResult[]> {
  const [answers, write, unchanged, destroyed] = planned;
  const port = async (instance: string): Promise<number | string> => {
    const run = await exec(command(...sudo, tool, "status", instance, "--json"));
    if (run.code !== 0) return commandError(run);
    return parseStatus(run.stdout)?.port ?? `unreadable ${tool} status: ${run.stdout.slice(0, 200)}`;
  };

  const results: CheckResult[] = [];
  const rest = (from: PlannedCheck[], why: string) => results.push(...from.map((c) => skip(c.name, why)));
  const roundTrip = async (): Promise<void> => {
    const forked = await exec(command(...sudo, tool, "fork", source, fork, "--ttl", FORK_TTL));
    if (forked.code !== 0) {
      results.push(fail(answers.name, answers.expected, commandError(forked), `${tool} fork ${source} ${fork}`));
      rest([write, unchanged], "no fork");
      return;
    }
    const forkPort = await port(fork);
    if (typeof forkPort === "string") {
      results.push(fail(answers.name, answers.expected, forkPort, `${tool} status ${fork}`));
      rest([write, unchanged], "no port for the fork");
      return;
    }
    const answered = await probes.answers(forkPort, answers);
    results.push(answered);
    if (answered.status !== "pass") {
      rest([write, unchanged], "the fork does not answer");
      return;
    }

    const wrote = await probes.write(forkPort, write);
    results.push(wrote);
    if (wrote.status !== "pass") {
      rest([unchanged], "no write in the fork");
      return;
    }

    const sourcePort = await port(source);
    if (typeof sourcePort === "string") {
      results.push(fail(unchanged.name, unchanged.expected, sourcePort, `${tool} status ${source}`));
      return;
    }
    results.push(await probes.sourceUnchanged(sourcePort, unchanged));
  };

  try {
    await roundTrip();
  } finally {
    results.push(await destroy(exec, tool, sudo, fork, destroyed));
  }
  return results;
}

async function destroy(exec: Exec, tool: string, sudo: string[], fork: string, check: PlannedCheck): Promise<CheckResult> {
  const destroyRun = await exec(command(...sudo, tool, "destroy", fork));
  const status = await exec(command(...sudo, tool, "status", fork));
  if (status.code === NOT_FOUND) {
    return destroyRun.code === 0 ? pass(check.name, `${fork} gone`) : fail(check.name, check.expected, `${fork} gone, but destroy failed: ${commandError(destroyRun)}`);
  }
  const found = `${tool} status ${fork} exits ${status.code ?? "(did not finish)"}`;
  return fail(check.name, check.expected, found, destroyRun.code === 0 ? undefined : `${tool} destroy ${fork}: ${commandError(destroyRun)}`);
}
