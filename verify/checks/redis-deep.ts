import { randomBytes } from "node:crypto";
import type { RedisExpectation, RedisInstanceExpectation } from "../manifest";
import type { CheckResult, Exec, PlannedCheck } from "../types";
import { checkForkRoundTrip, NOT_FOUND } from "./fork-round-trip";
import { redisCli, type RedisCheckOptions } from "./redis";
import { commandError, fail, pass } from "./result";

type Instance = RedisInstanceExpectation;

export const redisDeepCheckNames = {
  answers: (i: Instance) => `redis ${i.name}: deep: fork answers`,
  write: (i: Instance) => `redis ${i.name}: deep: write in the fork`,
  sourceUnchanged: (i: Instance) => `redis ${i.name}: deep: source unchanged by the fork`,
  destroyed: (i: Instance) => `redis ${i.name}: deep: fork destroyed`,
};

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
  const cli = (instance: string, port: number, ...args: string[]) => exec(redisCli({ listen: redis.listen, port, caFile: options.caFile }, instance, "own", sudo, ...args));

  return checkForkRoundTrip(exec, "spark-redis", sudo, source.name, fork, plannedRedisDeepChecks(redis), {
    answers: async (port, check) => {
      const pong = await cli(fork, port, "PING");
      if (pong.code === 0 && pong.stdout.trim() === "PONG") return pass(check.name, `${fork} on port ${port}`);
      return fail(check.name, check.expected, pong.code === 0 ? pong.stdout.trim() : commandError(pong));
    },
    write: async (port, check) => {
      const wrote = await cli(fork, port, "EVAL", "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])", "1", key, suffix);
      if (wrote.code === 0 && wrote.stdout.trim() === suffix) return pass(check.name, `${key} = ${suffix}`);
      return fail(check.name, check.expected, wrote.code === 0 ? wrote.stdout.trim() : commandError(wrote));
    },
    sourceUnchanged: async (port, check) => {
      const seen = await cli(source.name, port, "EXISTS", key);
      if (seen.code !== 0) return fail(check.name, check.expected, commandError(seen));
      if (seen.stdout.trim() === "0") return pass(check.name, `no key ${key}`);
      return fail(check.name, check.expected, `EXISTS ${seen.stdout.trim()}`, "the fork's write reached its source");
    },
  });
}
