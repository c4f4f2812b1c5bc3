import { randomBytes } from "node:crypto";
import { command } from "../../lib/shell-quote";
import type { RedisExpectation, RedisInstanceExpectation } from "../manifest";
import type { CheckResult, Exec, ExecResult, PlannedCheck } from "../types";
import { redisCli, type RedisCheckOptions } from "./redis";
import { commandError, fail, pass, skip } from "./result";
import { parseStatus } from "./service-instance";

type Instance = RedisInstanceExpectation;

export const redisDeepCheckNames = {
  answers: (i: Instance) => `redis ${i.name}: deep: fork answers`,
  write: (i: Instance) => `redis ${i.name}: deep: write in the fork`,
  sourceUnchanged: (i: Instance) => `redis ${i.name}: deep: source unchanged by the fork`,
  destroyed: (i: Instance) => `redis ${i.name}: deep: fork destroyed`,
};

/** A scratch fork expires on its own if verify dies before destroying it. */
const FORK_TTL = "10m";
/** `spark-redis status NAME` of an instance that does not exist. */
const NOT_FOUND = 3;

export interface RedisDeepOptions extends RedisCheckOptions {
  /** The 6 hex digits of the scratch fork's name. Default: random. */
  suffix?: string;
}

/** The instance the deep checks fork: the first declared one that is not itself a fork. */
export function redisDeepSource(redis: RedisExpectation): Instance | undefined {
  return redis.instances.find((i) => i.forkOf === undefined);
}

export function plannedRedisDeepChecks(redis: RedisExpectation): PlannedCheck[] {
  const source = redisDeepSource(redis);
  if (source === undefined) return [];
  const n = redisDeepCheckNames;
  return [
    { name: n.answers(source), expected: "PONG as the fork's own user" },
    { name: n.write(source), expected: "SET then GET: the value" },
    { name: n.sourceUnchanged(source), expected: `EXISTS 0 in ${source.name}` },
    { name: n.destroyed(source), expected: `spark-redis status exits ${NOT_FOUND}` },
  ];
}

/**
 * A fork round trip on the first non-fork instance: fork it to a scratch name (with a TTL), write
 * in the fork with the fork's own credentials, check the source has not seen the write, destroy
 * the fork. The fork is destroyed whatever step fails.
 */
export async function checkRedisDeep(exec: Exec, redis: RedisExpectation, options: RedisDeepOptions = {}): Promise<CheckResult[]> {
  const source = redisDeepSource(redis);
  if (source === undefined) return [];
  const suffix = options.suffix ?? randomBytes(3).toString("hex");
  const fork = `verify-deep-${suffix}`;
  const key = `sparks:verify-deep:${suffix}`;
  const sudo = options.sudo ? ["sudo", "-n"] : [];
  const [answers, write, unchanged, destroyed] = plannedRedisDeepChecks(redis);

  const cli = (instance: string, port: number, ...args: string[]) => exec(redisCli(redis.listen, port, instance, "own", sudo, ...args));
  const port = async (instance: string): Promise<number | string> => {
    const run = await exec(command(...sudo, "spark-redis", "status", instance, "--json"));
    if (run.code !== 0) return commandError(run);
    return parseStatus(run.stdout)?.port ?? `unreadable spark-redis status: ${run.stdout.slice(0, 200)}`;
  };

  const results: CheckResult[] = [];
  const rest = (from: PlannedCheck[], why: string) => results.push(...from.map((c) => skip(c.name, why)));
  const roundTrip = async (): Promise<void> => {
    const forked = await exec(command(...sudo, "spark-redis", "fork", source.name, fork, "--ttl", FORK_TTL));
    if (forked.code !== 0) {
      results.push(fail(answers.name, answers.expected, commandError(forked), `spark-redis fork ${source.name} ${fork}`));
      rest([write, unchanged], "no fork");
      return;
    }
    const forkPort = await port(fork);
    if (typeof forkPort === "string") {
      results.push(fail(answers.name, answers.expected, forkPort, `spark-redis status ${fork}`));
      rest([write, unchanged], "no port for the fork");
      return;
    }
    const pong = await cli(fork, forkPort, "PING");
    if (pong.code !== 0 || pong.stdout.trim() !== "PONG") {
      results.push(fail(answers.name, answers.expected, pong.code === 0 ? pong.stdout.trim() : commandError(pong)));
      rest([write, unchanged], "the fork does not answer");
      return;
    }
    results.push(pass(answers.name, `${fork} on port ${forkPort}`));

    const wrote = await cli(fork, forkPort, "EVAL", "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])", "1", key, suffix);
    if (wrote.code !== 0 || wrote.stdout.trim() !== suffix) {
      results.push(fail(write.name, write.expected, wrote.code === 0 ? wrote.stdout.trim() : commandError(wrote)));
      rest([unchanged], "no write in the fork");
      return;
    }
    results.push(pass(write.name, `${key} = ${suffix}`));

    const sourcePort = await port(source.name);
    if (typeof sourcePort === "string") {
      results.push(fail(unchanged.name, unchanged.expected, sourcePort, `spark-redis status ${source.name}`));
      return;
    }
    const seen = await cli(source.name, sourcePort, "EXISTS", key);
    if (seen.code !== 0) results.push(fail(unchanged.name, unchanged.expected, commandError(seen)));
    else if (seen.stdout.trim() === "0") results.push(pass(unchanged.name, `no key ${key}`));
    else results.push(fail(unchanged.name, unchanged.expected, `EXISTS ${seen.stdout.trim()}`, "the fork's write reached its source"));
  };

  try {
    await roundTrip();
  } finally {
    results.push(await destroy(exec, sudo, fork, destroyed));
  }
  return results;
}

async function destroy(exec: Exec, sudo: string[], fork: string, check: PlannedCheck): Promise<CheckResult> {
  const destroyRun: ExecResult = await exec(command(...sudo, "spark-redis", "destroy", fork));
  const status = await exec(command(...sudo, "spark-redis", "status", fork));
  if (status.code === NOT_FOUND) {
    return destroyRun.code === 0 ? pass(check.name, `${fork} gone`) : fail(check.name, check.expected, `${fork} gone, but destroy failed: ${commandError(destroyRun)}`);
  }
  const found = `spark-redis status ${fork} exits ${status.code ?? "(did not finish)"}`;
  return fail(check.name, check.expected, found, destroyRun.code === 0 ? undefined : `spark-redis destroy ${fork}: ${commandError(destroyRun)}`);
}
