import { command } from "../../lib/shell-quote";
import type { RedisExpectation, RedisInstanceExpectation } from "../manifest";
import type { CheckResult, Exec, ExecResult, PlannedCheck } from "../types";
import { commandError, fail, pass, skip } from "./result";
import { checkListening, checkServiceState, plannedServiceChecks } from "./service-instance";

type Instance = RedisInstanceExpectation;

export const redisCheckNames = {
  defaultInstance: "redis: Debian's default instance redis-server.service stopped and disabled",
  active: (i: Instance) => `redis ${i.name}: active`,
  enabled: (i: Instance) => `redis ${i.name}: enabled at boot`,
  forkOf: (i: Instance) => `redis ${i.name}: forked from ${i.forkOf}`,
  forkLimit: (i: Instance) => `redis ${i.name}: its own writes limited (btrfs exclusive limit)`,
  listening: (i: Instance, listen: string) => `redis ${i.name}: listening only on ${listen}`,
  noAuth: (i: Instance) => `redis ${i.name}: refuses unauthenticated commands`,
  wrongPassword: (i: Instance) => `redis ${i.name}: refuses a wrong password`,
  accepts: (i: Instance) => `redis ${i.name}: answers with its credentials`,
  refusesPlain: (i: Instance) => `redis ${i.name}: refuses the plain protocol on its port`,
  leastPrivilege: (i: Instance) => `redis ${i.name}: its user is refused admin commands (CONFIG)`,
  persistence: (i: Instance) => `redis ${i.name}: persistence as declared`,
  memory: (i: Instance) => `redis ${i.name}: maxmemory as declared`,
};

const WRONG_PASSWORD = "sparks-verify-wrong-password";
const ACCEPTS = "answers ACL WHOAMI as its own user";
const PLAIN_REFUSED = "no answer to a plain PING";

export interface RedisCheckOptions {
  /** Run spark-redis and read the password file through `sudo -n`. Default false. */
  sudo?: boolean;
  /** The host CA's certificate on the host (the manifest's `tls.caFile`): redis-cli speaks TLS verifying with it. Default plain (an old manifest), and the plain-protocol check is skipped. */
  caFile?: string;
}

export const redisPasswordFile = (name: string) => `/etc/sparks/spark-redis/${name}.password`;
/** spark-redis' own ACL user in every instance (PING, CONFIG GET/SET), its password root's only. */
export const REDIS_TOOL_USER = "sparks-tool";
const REDIS_TOOL_PASSWORD_FILE = "/etc/sparks/spark-redis/_tool.password";

/** What CONFIG GET must answer for the declared persistence and memory settings. */
export function expectedSettings(redis: RedisExpectation): { persistence: string; memory: string } {
  return {
    persistence: `appendonly=yes appendfsync=${redis.appendfsync} save=${redis.save}`,
    memory: `maxmemory=${redis.maxmemory} maxmemory-policy=${redis.maxmemoryPolicy}`,
  };
}

/** Every check `checkRedis` reports, in order, with what each expects. */
export function plannedRedisChecks(redis: RedisExpectation): PlannedCheck[] {
  return [{ name: redisCheckNames.defaultInstance, expected: "inactive disabled" }, ...redis.instances.flatMap((i) => plannedInstanceChecks(redis, i))];
}

function plannedInstanceChecks(redis: RedisExpectation, i: Instance): PlannedCheck[] {
  const n = redisCheckNames;
  const settings = expectedSettings(redis);
  return [
    ...plannedServiceChecks(n, i, redis.listen),
    { name: n.noAuth(i), expected: "NOAUTH" },
    { name: n.wrongPassword(i), expected: "WRONGPASS" },
    { name: n.accepts(i), expected: ACCEPTS },
    { name: n.refusesPlain(i), expected: PLAIN_REFUSED },
    { name: n.leastPrivilege(i), expected: "NOPERM" },
    { name: n.persistence(i), expected: settings.persistence },
    { name: n.memory(i), expected: settings.memory },
  ];
}

/** `CONFIG GET a b ...` as redis-cli prints it without a terminal: name and value on alternate lines. */
export function parseConfigGet(stdout: string): Map<string, string> {
  const lines = stdout.replace(/\n$/, "").split("\n");
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < lines.length; i += 2) values.set(lines[i], lines[i + 1]);
  return values;
}

/**
 * redis-cli on the host against one instance. "own": the instance's user, its password read into
 * REDISCLI_AUTH on the host (never on a command line); "tool": spark-redis' own user, the same way;
 * "wrong": the instance's user with a wrong password; "none": no AUTH at all. Over TLS, verifying the
 * server with `caFile`, when given.
 */
export function redisCli(
  target: { listen: string; port: number; caFile?: string },
  user: string,
  auth: "own" | "tool" | "wrong" | "none",
  sudo: string[],
  ...args: string[]
): string {
  const tls = target.caFile === undefined ? [] : ["--tls", "--cacert", target.caFile];
  const base = ["redis-cli", "--no-auth-warning", ...tls, "-h", target.listen, "-p", String(target.port)];
  if (auth === "none") return command(...base, ...args);
  const client = command(...base, "--user", auth === "tool" ? REDIS_TOOL_USER : user, ...args);
  if (auth === "wrong") return `REDISCLI_AUTH=${WRONG_PASSWORD} ${client}`;
  const passwordFile = auth === "tool" ? REDIS_TOOL_PASSWORD_FILE : redisPasswordFile(user);
  return `password=$(${command(...sudo, "cat", passwordFile)}) && REDISCLI_AUTH=$password ${client}`;
}

/** Every declared instance: running, enabled, reachable only where declared, guarded by its password, set up as declared. */
export async function checkRedis(exec: Exec, redis: RedisExpectation, options: RedisCheckOptions = {}): Promise<CheckResult[]> {
  const [active, enabled] = await Promise.all([
    exec("systemctl is-active redis-server.service"),
    exec("systemctl is-enabled redis-server.service"),
  ]);
  const found = `${active.stdout.trim() || "?"} ${enabled.stdout.trim() || "?"}`;
  // "?": no unit file at all, which is as good as disabled.
  const defaultOff = /^inactive (disabled|masked|\?)$/.test(found);
  const results: CheckResult[] = [defaultOff ? pass(redisCheckNames.defaultInstance, found) : fail(redisCheckNames.defaultInstance, "inactive disabled", found)];
  // One instance after another: each runs up to six commands at once.
  for (const instance of redis.instances) results.push(...(await checkInstance(exec, redis, instance, options)));
  return results;
}

async function checkInstance(exec: Exec, redis: RedisExpectation, instance: Instance, options: RedisCheckOptions): Promise<CheckResult[]> {
  const n = redisCheckNames;
  const sudo = options.sudo ? ["sudo", "-n"] : [];
  const { results, port } = await checkServiceState(exec, "spark-redis", sudo, n, instance, plannedInstanceChecks(redis, instance));
  if (port === undefined) return results;

  const cli = (auth: "own" | "tool" | "wrong" | "none", ...args: string[]) =>
    exec(redisCli({ listen: redis.listen, port, caFile: options.caFile }, instance.name, auth, sudo, ...args));
  // After the others: at most six commands at once.
  const plainPing = async () => (options.caFile === undefined ? undefined : exec(redisCli({ listen: redis.listen, port }, instance.name, "own", sudo, "PING")));
  const [listening, anonymous, wrong, own, admin, config] = await Promise.all([
    checkListening(exec, n.listening(instance, redis.listen), redis.listen, port),
    cli("none", "PING"),
    cli("wrong", "PING"),
    cli("own", "ACL", "WHOAMI"),
    cli("own", "CONFIG", "GET", "maxmemory"),
    // The settings through the tool's user: CONFIG is @admin, which the instance's user lacks.
    cli("tool", "CONFIG", "GET", "appendonly", "appendfsync", "save", "maxmemory", "maxmemory-policy"),
  ]);

  results.push(listening);
  results.push(refusal(n.noAuth(instance), "NOAUTH", anonymous), refusal(n.wrongPassword(instance), "WRONGPASS", wrong));
  const whoami = own.stdout.trim();
  results.push(own.code === 0 && whoami === instance.name ? pass(n.accepts(instance), "answered") : fail(n.accepts(instance), ACCEPTS, own.code === 0 ? whoami.slice(0, 200) : commandError(own)));
  const plain = await plainPing();
  results.push(plain === undefined ? skip(n.refusesPlain(instance), "the manifest names no host CA (tls.caFile)") : plainRefusal(n.refusesPlain(instance), plain));
  results.push(refusal(n.leastPrivilege(instance), "NOPERM", admin));

  const settings = parseConfigGet(config.stdout);
  const answered = config.code === 0 && settings.has("appendonly");
  const expected = expectedSettings(redis);
  const persistence = `appendonly=${settings.get("appendonly")} appendfsync=${settings.get("appendfsync")} save=${settings.get("save")}`;
  const memory = `maxmemory=${settings.get("maxmemory")} maxmemory-policy=${settings.get("maxmemory-policy")}`;
  if (!answered) {
    const found = `no answer to the tool's user: ${config.code === 0 ? config.stdout.trim().slice(0, 200) : commandError(config)}`;
    results.push(fail(n.persistence(instance), expected.persistence, found), fail(n.memory(instance), expected.memory, found));
  } else {
    results.push(persistence === expected.persistence ? pass(n.persistence(instance), persistence) : fail(n.persistence(instance), expected.persistence, persistence));
    results.push(memory === expected.memory ? pass(n.memory(instance), memory) : fail(n.memory(instance), expected.memory, memory));
  }
  return results;
}

/** A plain client on a TLS port: redis drops the connection at the first bytes that are no TLS handshake. */
function plainRefusal(name: string, result: ExecResult): CheckResult {
  if (/\bPONG\b/.test(result.stdout)) return fail(name, PLAIN_REFUSED, "PONG: answered without TLS");
  const said = `${result.stdout}\n${result.stderr}`.trim();
  if (result.code !== 0 || /error/i.test(said)) return pass(name, said.split("\n")[0]?.slice(0, 120) || `exit code ${result.code}`);
  return fail(name, PLAIN_REFUSED, said.slice(0, 200) || "answered");
}

/** redis-cli prints a refused command's error on stdout (no terminal) and exits 0 or 1 depending on version. */
function refusal(name: string, code: string, result: ExecResult): CheckResult {
  const text = `${result.stdout}\n${result.stderr}`;
  if (text.includes(code)) return pass(name, code);
  if (/\bPONG\b/.test(result.stdout)) return fail(name, code, "PONG: answered");
  return fail(name, code, result.stdout.trim() || commandError(result));
}
