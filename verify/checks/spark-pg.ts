import { command } from "../../lib/shell-quote";
import type { SparkPgExpectation, SparkPgInstanceExpectation } from "../manifest";
import type { CheckResult, Exec, ExecResult, PlannedCheck } from "../types";
import { commandError, fail, pass, skip } from "./result";
import { checkListening, checkServiceState, plannedServiceChecks } from "./service-instance";

type Instance = SparkPgInstanceExpectation;

export const sparkPgCheckNames = {
  active: (i: Instance) => `spark-pg ${i.name}: active`,
  enabled: (i: Instance) => `spark-pg ${i.name}: enabled at boot`,
  forkOf: (i: Instance) => `spark-pg ${i.name}: forked from ${i.forkOf}`,
  forkLimit: (i: Instance) => `spark-pg ${i.name}: its own writes limited (btrfs exclusive limit)`,
  listening: (i: Instance, listen: string) => `spark-pg ${i.name}: listening only on ${listen}`,
  accepts: (i: Instance) => `spark-pg ${i.name}: accepts its credentials`,
  refusesPlain: (i: Instance) => `spark-pg ${i.name}: refuses a connection without TLS (sslmode=disable)`,
  wrongPassword: (i: Instance) => `spark-pg ${i.name}: refuses a wrong password`,
  unknownRole: (i: Instance) => `spark-pg ${i.name}: refuses an unknown role`,
};

/** The database every instance's role owns (spark-pg's pg.py). */
const DATABASE = "app";
const WRONG_PASSWORD = "sparks-verify-wrong-password";
const UNKNOWN_ROLE = "sparks_verify_no_such_role";
const REFUSED = "refused: password authentication failed";
const AUTH_FAILED = /password authentication failed|role "[^"]*" does not exist/;
const PLAIN_REFUSED = "refused: no pg_hba.conf entry ... no encryption";
const NO_ENCRYPTION = /no pg_hba\.conf entry for host .*no encryption/;

export interface SparkPgCheckOptions {
  /** Run spark-pg and read the password file through `sudo -n`. Default false. */
  sudo?: boolean;
  /** The host CA's certificate on the host (the manifest's `tls.caFile`); without it the TLS checks are skipped. */
  caFile?: string;
}

export const passwordFile = (name: string) => `/etc/sparks/spark-pg/${name}.password`;

/** Every check `checkSparkPg` reports, in order, with what each expects. */
export function plannedSparkPgChecks(pg: SparkPgExpectation): PlannedCheck[] {
  return pg.instances.flatMap((i) => plannedInstanceChecks(pg, i));
}

function plannedInstanceChecks(pg: SparkPgExpectation, i: Instance): PlannedCheck[] {
  const n = sparkPgCheckNames;
  return [
    ...plannedServiceChecks(n, i, pg.listen),
    { name: n.accepts(i), expected: "select 1 returns 1 (over TLS, sslmode=verify-full with the host CA)" },
    { name: n.refusesPlain(i), expected: PLAIN_REFUSED },
    { name: n.wrongPassword(i), expected: REFUSED },
    { name: n.unknownRole(i), expected: REFUSED },
  ];
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
  const { results, port } = await checkServiceState(exec, "spark-pg", sudo, n, instance, plannedInstanceChecks(pg, instance));
  if (port === undefined) return results;

  const tls = options.caFile === undefined ? "" : ` sslmode=verify-full sslrootcert=${options.caFile}`;
  const psql = (user: string, password: "own" | "wrong", sslmode = tls) => {
    const conninfo = `host=${pg.listen} port=${port} user=${user} dbname=${DATABASE} connect_timeout=10${sslmode}`;
    const client = command(`/usr/lib/postgresql/${pg.version}/bin/psql`, "-XtAc", "select 1", conninfo);
    // The password stays on the host: read into the environment of psql, never on a command line.
    if (password === "wrong") return exec(`PGPASSWORD=${WRONG_PASSWORD} ${client}`);
    return exec(`password=$(${command(...sudo, "cat", passwordFile(instance.name))}) && PGPASSWORD=$password ${client}`);
  };
  const [listening, own, wrong, unknown] = await Promise.all([
    checkListening(exec, n.listening(instance, pg.listen), pg.listen, port),
    psql(instance.name, "own"),
    psql(instance.name, "wrong"),
    psql(UNKNOWN_ROLE, "own"),
  ]);
  // After the others: at most four commands at once.
  const plain = options.caFile === undefined ? undefined : await psql(instance.name, "own", " sslmode=disable");

  results.push(listening);
  results.push(
    own.code === 0 && own.stdout.trim() === "1"
      ? pass(n.accepts(instance), "1")
      : fail(n.accepts(instance), "select 1 returns 1", own.code === 0 ? own.stdout.trim() : commandError(own)),
  );
  results.push(plain === undefined ? skip(n.refusesPlain(instance), "the manifest names no host CA (tls.caFile)") : plainRefusal(n.refusesPlain(instance), plain));
  results.push(refusal(n.wrongPassword(instance), wrong), refusal(n.unknownRole(instance), unknown));
  return results;
}

function plainRefusal(name: string, result: ExecResult): CheckResult {
  if (result.code === 0) return fail(name, PLAIN_REFUSED, "accepted: logged in without TLS");
  if (NO_ENCRYPTION.test(result.stderr)) return pass(name, "refused: no encryption");
  return fail(name, PLAIN_REFUSED, commandError(result));
}

function refusal(name: string, result: ExecResult): CheckResult {
  if (result.code === 0) return fail(name, REFUSED, "accepted: logged in");
  if (AUTH_FAILED.test(result.stderr)) return pass(name, "refused");
  return fail(name, REFUSED, commandError(result));
}
