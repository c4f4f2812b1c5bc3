import { randomBytes } from "node:crypto";
import { command } from "../../lib/shell-quote";
import type { SparkPgExpectation, SparkPgInstanceExpectation } from "../manifest";
import type { CheckResult, Exec, ExecResult, PlannedCheck } from "../types";
import { commandError, fail, pass, skip } from "./result";
import { parseStatus } from "./service-instance";
import { passwordFile, type SparkPgCheckOptions } from "./spark-pg";

type Instance = SparkPgInstanceExpectation;

export const sparkPgDeepCheckNames = {
  answers: (i: Instance) => `spark-pg ${i.name}: deep: fork answers`,
  write: (i: Instance) => `spark-pg ${i.name}: deep: write in the fork`,
  sourceUnchanged: (i: Instance) => `spark-pg ${i.name}: deep: source unchanged by the fork`,
  destroyed: (i: Instance) => `spark-pg ${i.name}: deep: fork destroyed`,
};

/** The database every instance's role owns (spark-pg's pg.py). */
const DATABASE = "app";
/** A scratch fork expires on its own if verify dies before destroying it. */
const FORK_TTL = "10m";
const ABSENT = "absent";
/** `spark-pg status NAME` of an instance that does not exist. */
const NOT_FOUND = 3;

export interface SparkPgDeepOptions extends SparkPgCheckOptions {
  /** The 6 hex digits of the scratch fork's name. Default: random. */
  suffix?: string;
}

/** The instance the deep checks fork: the first declared one that is not itself a fork. */
export function deepSource(pg: SparkPgExpectation): Instance | undefined {
  return pg.instances.find((i) => i.forkOf === undefined);
}

export function plannedSparkPgDeepChecks(pg: SparkPgExpectation): PlannedCheck[] {
  const source = deepSource(pg);
  if (source === undefined) return [];
  const n = sparkPgDeepCheckNames;
  return [
    { name: n.answers(source), expected: "select 1 returns 1" },
    { name: n.write(source), expected: "create table + insert: 1 row" },
    { name: n.sourceUnchanged(source), expected: `table ${ABSENT} in ${source.name}` },
    { name: n.destroyed(source), expected: `spark-pg status exits ${NOT_FOUND}` },
  ];
}

/**
 * A fork round trip on the first non-fork instance: fork it to a scratch name (with a TTL), write
 * in the fork with the fork's own credentials, check the source has not seen the write, destroy
 * the fork. The fork is destroyed whatever step fails.
 */
export async function checkSparkPgDeep(exec: Exec, pg: SparkPgExpectation, options: SparkPgDeepOptions = {}): Promise<CheckResult[]> {
  const source = deepSource(pg);
  if (source === undefined) return [];
  const suffix = options.suffix ?? randomBytes(3).toString("hex");
  const fork = `verify-deep-${suffix}`;
  const table = `verify_deep_${suffix}`;
  const sudo = options.sudo ? ["sudo", "-n"] : [];
  const [answers, write, unchanged, destroyed] = plannedSparkPgDeepChecks(pg);

  const psql = (instance: string, port: number, sql: string) => {
    const conninfo = `host=${pg.listen} port=${port} user=${instance} dbname=${DATABASE} connect_timeout=10`;
    const client = command(`/usr/lib/postgresql/${pg.version}/bin/psql`, "-XtA", "-v", "ON_ERROR_STOP=1", "-c", sql, conninfo);
    // The password stays on the host: read into the environment of psql, never on a command line.
    return exec(`password=$(${command(...sudo, "cat", passwordFile(instance))}) && PGPASSWORD=$password ${client}`);
  };
  const port = async (instance: string): Promise<number | string> => {
    const run = await exec(command(...sudo, "spark-pg", "status", instance, "--json"));
    if (run.code !== 0) return commandError(run);
    return parseStatus(run.stdout)?.port ?? `unreadable spark-pg status: ${run.stdout.slice(0, 200)}`;
  };

  const results: CheckResult[] = [];
  const rest = (from: PlannedCheck[], why: string) => results.push(...from.map((c) => skip(c.name, why)));
  const roundTrip = async (): Promise<void> => {
    const forked = await exec(command(...sudo, "spark-pg", "fork", source.name, fork, "--ttl", FORK_TTL));
    if (forked.code !== 0) {
      results.push(fail(answers.name, answers.expected, commandError(forked), `spark-pg fork ${source.name} ${fork}`));
      rest([write, unchanged], "no fork");
      return;
    }
    const forkPort = await port(fork);
    if (typeof forkPort === "string") {
      results.push(fail(answers.name, answers.expected, forkPort, `spark-pg status ${fork}`));
      rest([write, unchanged], "no port for the fork");
      return;
    }
    const one = await psql(fork, forkPort, "select 1");
    if (one.code !== 0 || lastLine(one) !== "1") {
      results.push(fail(answers.name, answers.expected, one.code === 0 ? lastLine(one) : commandError(one)));
      rest([write, unchanged], "the fork does not answer");
      return;
    }
    results.push(pass(answers.name, `${fork} on port ${forkPort}`));

    const wrote = await psql(fork, forkPort, `create table ${table} (id int); insert into ${table} values (1); select count(*) from ${table}`);
    if (wrote.code !== 0 || lastLine(wrote) !== "1") {
      results.push(fail(write.name, write.expected, wrote.code === 0 ? `${lastLine(wrote)} rows` : commandError(wrote)));
      rest([unchanged], "no write in the fork");
      return;
    }
    results.push(pass(write.name, `1 row in ${table}`));

    const sourcePort = await port(source.name);
    if (typeof sourcePort === "string") {
      results.push(fail(unchanged.name, unchanged.expected, sourcePort, `spark-pg status ${source.name}`));
      return;
    }
    const seen = await psql(source.name, sourcePort, `select coalesce(to_regclass('public.${table}')::text, '${ABSENT}')`);
    const found = lastLine(seen);
    if (seen.code !== 0) results.push(fail(unchanged.name, unchanged.expected, commandError(seen)));
    else if (found === ABSENT) results.push(pass(unchanged.name, `no table ${table}`));
    else results.push(fail(unchanged.name, unchanged.expected, `table ${found} in ${source.name}`, "the fork's write reached its source"));
  };

  try {
    await roundTrip();
  } finally {
    results.push(await destroy(exec, sudo, fork, destroyed));
  }
  return results;
}

/** psql 15 prints every statement's result of a multi-statement -c (command tags included): the last is the answer. */
function lastLine(result: ExecResult): string {
  return result.stdout.trim().split("\n").pop()?.trim() ?? "";
}

async function destroy(exec: Exec, sudo: string[], fork: string, check: PlannedCheck): Promise<CheckResult> {
  const destroyRun: ExecResult = await exec(command(...sudo, "spark-pg", "destroy", fork));
  const status = await exec(command(...sudo, "spark-pg", "status", fork));
  if (status.code === NOT_FOUND) {
    return destroyRun.code === 0 ? pass(check.name, `${fork} gone`) : fail(check.name, check.expected, `${fork} gone, but destroy failed: ${commandError(destroyRun)}`);
  }
  const found = `spark-pg status ${fork} exits ${status.code ?? "(did not finish)"}`;
  return fail(check.name, check.expected, found, destroyRun.code === 0 ? undefined : `spark-pg destroy ${fork}: ${commandError(destroyRun)}`);
}
