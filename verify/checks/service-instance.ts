import { command, posixQuote } from "../../lib/shell-quote";
import type { CheckResult, Exec, ExecResult, PlannedCheck } from "../types";
import { commandError, fail, pass } from "./result";

/** One instance of a spark tool (spark-pg, spark-redis), run by the unit `TOOL@NAME.service`. */
export interface ServiceInstance {
  name: string;
  /** The instance it was forked from; absent for an instance created empty. */
  forkOf?: string;
  /** For a fork: the exclusive limit in bytes its subvolume must carry; absent for none. */
  forkLimitBytes?: number;
}

/** The names of the checks every instance of a spark tool gets first. */
export interface ServiceCheckNames<I extends ServiceInstance> {
  active: (i: I) => string;
  enabled: (i: I) => string;
  forkOf: (i: I) => string;
  forkLimit: (i: I) => string;
  listening: (i: I, listen: string) => string;
}

/** What `TOOL status NAME --json` says, the part verify reads. */
export interface InstanceStatus {
  port: number;
  source: string | null;
  /** The exclusive limit on its subvolume's qgroup; null for none, undefined when quotas are off. */
  exclusiveLimitBytes?: number | null;
}

export function parseStatus(stdout: string): InstanceStatus | undefined {
  try {
    const data = JSON.parse(stdout) as { port?: unknown; source?: unknown; size?: { exclusive_limit_bytes?: unknown } | null };
    if (typeof data.port !== "number") return undefined;
    const limit = data.size?.exclusive_limit_bytes;
    return {
      port: data.port,
      source: typeof data.source === "string" ? data.source : null,
      ...(data.size == null ? {} : { exclusiveLimitBytes: typeof limit === "number" ? limit : null }),
    };
  } catch {
    return undefined;
  }
}

/** Local addresses of the TCP listeners `ss -ltnH` prints, brackets and port removed. */
export function parseListeners(stdout: string, port: number): string[] {
  return stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[3])
    .filter((local): local is string => local !== undefined && local.endsWith(`:${port}`))
    .map((local) => local.slice(0, local.length - `:${port}`.length).replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, ""));
}

/** The checks every instance of a spark tool gets first, in order, with what each expects. */
export function plannedServiceChecks<I extends ServiceInstance>(names: ServiceCheckNames<I>, instance: I, listen: string): PlannedCheck[] {
  return [
    { name: names.active(instance), expected: "active" },
    { name: names.enabled(instance), expected: "enabled" },
    ...(instance.forkOf === undefined ? [] : [{ name: names.forkOf(instance), expected: instance.forkOf }]),
    ...(instance.forkLimitBytes === undefined ? [] : [{ name: names.forkLimit(instance), expected: `${instance.forkLimitBytes} bytes` }]),
    { name: names.listening(instance, listen), expected: `${listen}:PORT only` },
  ];
}

/** The instance's state so far, and its port when the tool could tell it. */
export interface ServiceState {
  results: CheckResult[];
  port?: number;
}

/**
 * Its unit active and enabled, and forked from what it was declared forked from. Without a
 * readable `TOOL status`, every check planned after active and enabled fails with the reason.
 */
export async function checkServiceState<I extends ServiceInstance>(
  exec: Exec,
  tool: string,
  sudo: string[],
  names: ServiceCheckNames<I>,
  instance: I,
  planned: PlannedCheck[],
): Promise<ServiceState> {
  const unit = `${tool}@${instance.name}.service`;
  const [statusRun, active, enabled] = await Promise.all([
    exec(command(...sudo, tool, "status", instance.name, "--json")),
    exec(command("systemctl", "is-active", unit)),
    exec(command("systemctl", "is-enabled", unit)),
  ]);
  const results = [unitState(names.active(instance), "active", active), unitState(names.enabled(instance), "enabled", enabled)];

  const status = statusRun.code === 0 ? parseStatus(statusRun.stdout) : undefined;
  if (status === undefined) {
    const why = statusRun.code === 0 ? `unreadable ${tool} status: ${statusRun.stdout.slice(0, 200)}` : commandError(statusRun);
    return { results: [...results, ...planned.slice(2).map((check) => fail(check.name, check.expected, why))] };
  }
  if (instance.forkOf !== undefined) {
    results.push(status.source === instance.forkOf ? pass(names.forkOf(instance), status.source) : fail(names.forkOf(instance), instance.forkOf, status.source ?? "created empty"));
  }
  if (instance.forkLimitBytes !== undefined) {
    const expected = `${instance.forkLimitBytes} bytes`;
    const limit = status.exclusiveLimitBytes;
    const found = limit === undefined ? "btrfs quotas off" : limit === null ? "no limit" : `${limit} bytes`;
    results.push(found === expected ? pass(names.forkLimit(instance), found) : fail(names.forkLimit(instance), expected, found));
  }
  return { results, port: status.port };
}

function unitState(name: string, expected: string, result: ExecResult): CheckResult {
  const found = result.stdout.trim();
  if (found === expected) return pass(name, found);
  return fail(name, expected, found === "" ? commandError(result) : found);
}

/** Something listens on the port at `listen`, and nowhere else. */
export async function checkListening(exec: Exec, name: string, listen: string, port: number): Promise<CheckResult> {
  const listeners = await exec(`ss -ltnH ${posixQuote(`sport = :${port}`)}`);
  const expected = `${listen}:${port} only`;
  const addresses = parseListeners(listeners.stdout, port);
  if (listeners.code !== 0) return fail(name, expected, commandError(listeners));
  if (addresses.length === 0) return fail(name, expected, `nothing listens on port ${port}`);
  if (addresses.every((a) => a === listen)) return pass(name, `${listen}:${port}`);
  return fail(name, expected, addresses.map((a) => `${a}:${port}`).join(", "));
}
