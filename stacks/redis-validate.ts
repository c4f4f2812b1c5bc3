import type { HostConfig } from "./types";
import type { ConfigError, DeepPartial } from "./validate";

/** `default` is Redis' own unauthenticated ACL user; the host tool refuses it too. */
const RESERVED_REDIS_NAMES = ["default"];

const list = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : []);

/** Rules of `hosts[i].redis` that span fields: the volume and subvolume exist, ports fit, forks follow sources. */
export function redisErrors(host: DeepPartial<HostConfig> | undefined, at: string): ConfigError[] {
  const redis = host?.redis;
  if (redis == null || typeof redis !== "object") return [];
  const errors: ConfigError[] = [];
  const volume = list(host?.btrfs?.volumes).find((v) => v?.name === redis.volume);
  if (typeof redis.volume === "string" && volume === undefined) {
    errors.push({ path: `${at}.volume`, message: `names no btrfs volume of this host ("${redis.volume}")` });
  }
  const subvolume = volume === undefined ? undefined : list(volume.subvolumes).find((s) => s?.name === redis.subvolume);
  if (volume !== undefined && typeof redis.subvolume === "string" && subvolume === undefined) {
    errors.push({ path: `${at}.subvolume`, message: `names no subvolume of volume "${volume.name}" ("${redis.subvolume}")` });
  }
  // The redis user must traverse the root to reach its instances; it is in no group a subvolume can name before the package exists.
  const mode = subvolume?.mode ?? "0755";
  if (subvolume !== undefined && typeof mode === "string" && /^[0-7]+$/.test(mode) && (parseInt(mode, 8) & 0o001) === 0) {
    errors.push({ path: `${at}.subvolume`, message: `subvolume "${subvolume.name}" has mode ${mode}: the redis user needs o+x on it (e.g. "0755" or "0711")` });
  }
  const from = redis.ports?.from;
  const to = redis.ports?.to;
  const instances = list(redis.instances);
  if (typeof from === "number" && typeof to === "number") {
    if (from > to) errors.push({ path: `${at}.ports`, message: `from (${from}) is greater than to (${to})` });
    else if (to - from + 1 < instances.length) {
      errors.push({ path: `${at}.ports`, message: `holds ${to - from + 1} ports for ${instances.length} instances` });
    }
    const pg = host?.sparkPg?.ports;
    if (typeof pg?.from === "number" && typeof pg?.to === "number" && from <= pg.to && pg.from <= to) {
      errors.push({ path: `${at}.ports`, message: `overlaps the sparkPg port pool ${pg.from}-${pg.to} of this host` });
    }
  }
  const names = instances.map((i) => i?.name);
  instances.forEach((instance, i) => {
    const path = `${at}.instances[${i}]`;
    const name = instance?.name;
    if (typeof name === "string" && names.indexOf(name) !== i) errors.push({ path: `${path}.name`, message: `duplicate instance name "${name}"` });
    if (typeof name === "string" && RESERVED_REDIS_NAMES.includes(name)) {
      errors.push({ path: `${path}.name`, message: `"${name}" is reserved by Redis (its unauthenticated user)` });
    }
    const source = instance?.forkOf;
    if (typeof source === "string") {
      const index = names.indexOf(source);
      if (index === -1) errors.push({ path: `${path}.forkOf`, message: `names no instance of this host ("${source}")` });
      else if (index >= i) errors.push({ path: `${path}.forkOf`, message: `"${source}" must be declared before the instance forked from it` });
    }
    if (instance?.protect === true && volume !== undefined && volume.protect !== true) {
      errors.push({
        path: `${path}.protect`,
        message: `needs volume "${volume.name}" protected too: destroying the volume would take the instance with it`,
      });
    }
  });
  return errors;
}
