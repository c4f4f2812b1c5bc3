import { command, posixQuote } from "../../lib/shell-quote";
import type { SparkPgExpectation, SparkPgInstanceExpectation } from "../manifest";
import type { CheckResult, Exec, ExecResult, PlannedCheck } from "../types";
import { commandError, fail, pass } from "./result";

type Instance = SparkPgInstanceExpectation;

export const sparkPgCheckNames = {
  active: (i: Instance) => `spark-pg ${i.name}: active`,
  enabled: (i: Instance) => `spark-pg ${i.name}: enabled at boot`,
  forkOf: (i: Instance) => `spark-pg ${i.name}: forked from ${i.forkOf}`,
  listening: (i: Instance, listen: string) => `spark-pg ${i.name}: listening only on ${listen}`,
  accepts: (i: Instance) => `spark-pg ${i.name}: accepts its credentials`,
  wrongPassword: (i: Instance) => `spark-pg ${i.name}: refuses a wrong password`,
  unknownRole: (i: Instance) => `spark-pg ${i.name}: refuses an unknown role`,
};

/** The database every instance's role owns (spark-pg's pg.py). */
const DATABASE = "app";
const WRONG_PASSWORD = "sparks-verify-wrong-password";
const UNKNOWN_ROLE = "sparks_verify_no_such_role";
const REFUSED = "refused: password authentication failed";
const AUTH_FAILED = /password authentication failed|role "[^"]*" does not exist/;

export interface SparkPgCheckOptions {
  /** Run spark-pg and read the password file through `sudo -n`. Default false. */
  sudo?: boolean;
}

export const passwordFile = (name: string) => `/etc/sparks/spark-pg/${name}.password`;

/** Every check `checkSparkPg` reports, in order, with what each expects. */
export function plannedSparkPgChecks(pg: SparkPgExpectation): PlannedCheck[] {
  const n = sparkPgCheckNames;
  return pg.instances.flatMap((i) => [
    { name: n.active(i), expected: "active" },
    { name: n.enabled(i), expected: "enabled" },
    ...(i.forkOf === undefined ? [] : [{ name: n.forkOf(i), expected: i.forkOf }]),
    { name: n.listening(i, pg.listen), expected: `${pg.listen}:PORT only` },
    { name: n.accepts(i), expected: "select 1 returns 1" },
    { name: n.wrongPassword(i), expected: REFUSED },
    { name: n.unknownRole(i), expected: REFUSED },
  ]);
}

/** What `spark-pg status NAME --json` says, the part verify reads. */
interface InstanceStatus {
  port: number;
  source: string | null;
}

export function parseStatus(stdout: string): InstanceStatus | undefined {
  try {
    const data = JSON.parse(stdout) as { port?: unknown; source?: unknown };
    if (typeof data.port !== "number") return undefined;
    return { port: data.port, source: typeof data.source === "string" ? data.source : null };
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

/** Every declared instance of the host: running, enabled, reachable only where declared, guarded by its password. */
export async function checkSparkPg(exec: Exec, pg: SparkPgExpectation, options: SparkPgCheckOptions = {}): Promise<CheckResult[]> {
  // One instance after another: each runs up to four commands at once.
  const results: CheckResult[] = [];
  for (const instance of pg.instances) results.push(...(await checkInstance(exec, pg, instance, options)));
  return results;
}

async function checkInstance(exec: Exec, pg: SparkPgExpectation, instance: Instance, options: SparkPgCheckOptions): Promise<CheckResult[]> {
  const n = sparkPgCheckNames;
  const sudo = options.sudo ? ["sudo", "-n"] : [];
  const unit = `spark-pg@${instance.name}.service`;
  const [statusRun, active, enabled] = await Promise.all([
    exec(command(...sudo, "spark-pg", "status", instance.name, "--json")),
    exec(command("systemctl", "is-active", unit)),
    exec(command("systemctl", "is-enabled", unit)),
  ]);
  const state = (name: string, expected: string, result: ExecResult) => {
    const found = result.stdout.trim();
    if (found === expected) return pass(name, found);
    return fail(name, expected, found === "" ? commandError(result) : found);
  };
  const results = [state(n.active(instance), "active", active), state(n.enabled(instance), "enabled", enabled)];

  const status = statusRun.code === 0 ? parseStatus(statusRun.stdout) : undefined;
  const later = plannedSparkPgChecks({ ...pg, instances: [instance] }).slice(2);
  if (status === undefined) {
    const why = statusRun.code === 0 ? `unreadable spark-pg status: ${statusRun.stdout.slice(0, 200)}` : commandError(statusRun);
    return [...results, ...later.map((check) => fail(check.name, check.expected, why))];
  }
  if (instance.forkOf !== undefined) {
    results.push(status.source === instance.forkOf ? pass(n.forkOf(instance), status.source) : fail(n.forkOf(instance), instance.forkOf, status.source ?? "created empty"));
  }

  const psql = (user: string, password: "own" | "wrong") => {
    const conninfo = `host=${pg.listen} port=${status.port} user=${user} dbname=${DATABASE} connect_timeout=10`;
    const client = command(`/usr/lib/postgresql/${pg.version}/bin/psql`, "-XtAc", "select 1", conninfo);
    // The password stays on the host: read into the environment of psql, never on a command line.
    if (password === "wrong") return exec(`PGPASSWORD=${WRONG_PASSWORD} ${client}`);
    return exec(`password=$(${command(...sudo, "cat", passwordFile(instance.name))}) && PGPASSWORD=$password ${client}`);
  };
  const [listeners, own, wrong, unknown] = await Promise.all([
    exec(`ss -ltnH ${posixQuote(`sport = :${status.port}`)}`),
    psql(instance.name, "own"),
    psql(instance.name, "wrong"),
    psql(UNKNOWN_ROLE, "own"),
  ]);

  const expectedListen = `${pg.listen}:${status.port} only`;
  const addresses = parseListeners(listeners.stdout, status.port);
  const listenName = n.listening(instance, pg.listen);
  if (listeners.code !== 0) results.push(fail(listenName, expectedListen, commandError(listeners)));
  else if (addresses.length === 0) results.push(fail(listenName, expectedListen, `nothing listens on port ${status.port}`));
  else if (addresses.every((a) => a === pg.listen)) results.push(pass(listenName, `${pg.listen}:${status.port}`));
  else results.push(fail(listenName, expectedListen, addresses.map((a) => `${a}:${status.port}`).join(", ")));

  results.push(
    own.code === 0 && own.stdout.trim() === "1"
      ? pass(n.accepts(instance), "1")
      : fail(n.accepts(instance), "select 1 returns 1", own.code === 0 ? own.stdout.trim() : commandError(own)),
  );
  results.push(refusal(n.wrongPassword(instance), wrong), refusal(n.unknownRole(instance), unknown));
  return results;
}

function refusal(name: string, result: ExecResult): CheckResult {
  if (result.code === 0) return fail(name, REFUSED, "accepted: logged in");
  if (AUTH_FAILED.test(result.stderr)) return pass(name, "refused");
  return fail(name, REFUSED, commandError(result));
}
