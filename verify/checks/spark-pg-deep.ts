import { randomBytes } from "node:crypto";
import { command } from "../../lib/shell-quote";
import type { SparkPgExpectation, SparkPgInstanceExpectation } from "../manifest";
import type { CheckResult, Exec, ExecResult, PlannedCheck } from "../types";
import { checkForkRoundTrip, NOT_FOUND } from "./fork-round-trip";
import { commandError, fail, pass } from "./result";
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
const ABSENT = "absent";

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
  const psql = (instance: string, port: number, sql: string) => {
    const tls = options.caFile === undefined ? "" : ` sslmode=verify-full sslrootcert=${options.caFile}`;
    const conninfo = `host=${pg.listen} port=${port} user=${instance} dbname=${DATABASE} connect_timeout=10${tls}`;
    const client = command(`/usr/lib/postgresql/${pg.version}/bin/psql`, "-XtA", "-v", "ON_ERROR_STOP=1", "-c", sql, conninfo);
    // The password stays on the host: read into the environment of psql, never on a command line.
    return exec(`password=$(${command(...sudo, "cat", passwordFile(instance))}) && PGPASSWORD=$password ${client}`);
  };

  return checkForkRoundTrip(exec, "spark-pg", sudo, source.name, fork, plannedSparkPgDeepChecks(pg), {
    answers: async (port, check) => {
      const one = await psql(fork, port, "select 1");
      if (one.code === 0 && lastLine(one) === "1") return pass(check.name, `${fork} on port ${port}`);
      return fail(check.name, check.expected, one.code === 0 ? lastLine(one) : commandError(one));
    },
    write: async (port, check) => {
      const wrote = await psql(fork, port, `create table ${table} (id int); insert into ${table} values (1); select count(*) from ${table}`);
      if (wrote.code === 0 && lastLine(wrote) === "1") return pass(check.name, `1 row in ${table}`);
      return fail(check.name, check.expected, wrote.code === 0 ? `${lastLine(wrote)} rows` : commandError(wrote));
    },
    sourceUnchanged: async (port, check) => {
      const seen = await psql(source.name, port, `select coalesce(to_regclass('public.${table}')::text, '${ABSENT}')`);
      const found = lastLine(seen);
      if (seen.code !== 0) return fail(check.name, check.expected, commandError(seen));
      if (found === ABSENT) return pass(check.name, `no table ${table}`);
      return fail(check.name, check.expected, `table ${found} in ${source.name}`, "the fork's write reached its source");
    },
  });
}

/** psql 15 prints every statement's result of a multi-statement -c (command tags included): the last is the answer. */
function lastLine(result: ExecResult): string {
  return result.stdout.trim().split("\n").pop()?.trim() ?? "";
}
