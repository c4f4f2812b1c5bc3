import type { HostConfig } from "./types";
import { clientsErrors, forkLimitErrors, instanceListErrors, listenErrors, portPoolErrors, serviceStorage } from "./service-instances-validate";
import type { ConfigError, DeepPartial } from "./validate";

/** `default` is Redis' own unauthenticated ACL user, `sparks-tool` spark-redis' own; the host tool refuses them too. */
const RESERVED_REDIS_NAMES = ["default", "sparks-tool"];

const list = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : []);

/** Rules of `hosts[i].redis` that span fields: the volume and subvolume exist, ports fit, forks follow sources. */
export function redisErrors(host: DeepPartial<HostConfig> | undefined, at: string): ConfigError[] {
  const redis = host?.redis;
  if (redis == null || typeof redis !== "object") return [];
  const { volume, subvolume, errors } = serviceStorage(host, redis, at);
  // The redis user must traverse the root to reach its instances; it is in no group a subvolume can name before the package exists.
  const mode = subvolume?.mode ?? "0755";
  if (subvolume !== undefined && typeof mode === "string" && /^[0-7]+$/.test(mode) && (parseInt(mode, 8) & 0o001) === 0) {
    errors.push({ path: `${at}.subvolume`, message: `subvolume "${subvolume.name}" has mode ${mode}: the redis user needs o+x on it (e.g. "0755" or "0711")` });
  }
  errors.push(...listenErrors(redis.listen, at), ...clientsErrors(redis.clients, redis.listen, at), ...forkLimitErrors(redis.forkLimit, subvolume, at));
  const instances = list(redis.instances);
  errors.push(...portPoolErrors(redis.ports, instances.length, at));
  const from = redis.ports?.from;
  const to = redis.ports?.to;
  const pg = host?.sparkPg?.ports;
  if (typeof from === "number" && typeof to === "number" && typeof pg?.from === "number" && typeof pg?.to === "number" && from <= pg.to && pg.from <= to) {
    errors.push({ path: `${at}.ports`, message: `overlaps the sparkPg port pool ${pg.from}-${pg.to} of this host` });
  }
  errors.push(...instanceListErrors(instances, at, volume, { names: RESERVED_REDIS_NAMES, by: "Redis (its unauthenticated user) and spark-redis (its own user)" }));
  return errors;
}
