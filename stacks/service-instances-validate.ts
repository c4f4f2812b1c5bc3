import { BlockList, isIP } from "node:net";
import { cidrKey, parseCidr } from "../lib/cidr";
import type { BtrfsVolumeConfig, HostConfig, PortRange, RedisInstanceConfig, SparkPgInstanceConfig, SubvolumeConfig } from "./types";
import type { ConfigError, DeepPartial } from "./validate";

type Volume = DeepPartial<BtrfsVolumeConfig>;
type Subvolume = DeepPartial<SubvolumeConfig>;
type Instance = DeepPartial<SparkPgInstanceConfig | RedisInstanceConfig>;

const list = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : []);

/** Where the instances of spark-pg or spark-redis live, and an error for each of the two names that finds nothing on this host. */
export function serviceStorage(
  host: DeepPartial<HostConfig> | undefined,
  service: { volume?: string; subvolume?: string },
  at: string,
): { volume?: Volume; subvolume?: Subvolume; errors: ConfigError[] } {
  const errors: ConfigError[] = [];
  const volume = list(host?.btrfs?.volumes).find((v) => v?.name === service.volume);
  if (typeof service.volume === "string" && volume === undefined) {
    errors.push({ path: `${at}.volume`, message: `names no btrfs volume of this host ("${service.volume}")` });
  }
  const subvolume = volume === undefined ? undefined : list(volume.subvolumes).find((s) => s?.name === service.subvolume);
  if (volume !== undefined && typeof service.subvolume === "string" && subvolume === undefined) {
    errors.push({ path: `${at}.subvolume`, message: `names no subvolume of volume "${volume.name}" ("${service.subvolume}")` });
  }
  return { volume, subvolume, errors };
}

const WILDCARDS = new BlockList();
WILDCARDS.addAddress("0.0.0.0", "ipv4");
WILDCARDS.addAddress("::", "ipv6");

/** `listen` is one concrete address: a wildcard would open the service on every interface, and names no client network. */
export function listenErrors(listen: unknown, at: string): ConfigError[] {
  if (typeof listen !== "string") return [];
  const family = isIP(listen);
  if (family === 0) return [{ path: `${at}.listen`, message: `"${listen}" is not an IP address` }];
  if (WILDCARDS.check(listen, family === 4 ? "ipv4" : "ipv6")) {
    return [{ path: `${at}.listen`, message: `"${listen}" is a wildcard: give the host's own address on the network its clients use` }];
  }
  return [];
}

/**
 * Each client network parses as a CIDR of listen's family (a client of the other family could never
 * reach the one address the instances listen on), and none is written twice.
 */
export function clientsErrors(clients: unknown, listen: unknown, at: string): ConfigError[] {
  const family = typeof listen === "string" ? isIP(listen) : 0;
  return networkListErrors(clients, `${at}.clients`, family === 0 ? undefined : { family, why: `listen ${listen}` });
}

/** Each entry of a list of networks parses as a CIDR (of `only.family`, when given), and none is written twice. */
export function networkListErrors(networks: unknown, at: string, only?: { family: number; why: string }): ConfigError[] {
  if (!Array.isArray(networks)) return [];
  const seen = new Map<string, number>();
  const name = at.slice(at.lastIndexOf(".") + 1);
  return networks.flatMap((text, i): ConfigError[] => {
    const path = `${at}[${i}]`;
    if (typeof text !== "string") return [];
    const cidr = parseCidr(text);
    if ("error" in cidr) return [{ path, message: cidr.error }];
    if (only !== undefined && cidr.family !== only.family) {
      return [{ path, message: `"${text}" is an IPv${cidr.family} network, but ${only.why} is IPv${only.family}: no such client can reach it` }];
    }
    const key = cidrKey(cidr);
    const first = seen.get(key);
    if (first !== undefined) return [{ path, message: `"${text}" is the network of ${name}[${first}] again` }];
    seen.set(key, i);
    return [];
  });
}

/** A fork limit is a btrfs qgroup limit: it needs quotas on the volume, which a subvolume `limit` turns on. */
export function forkLimitErrors(forkLimit: unknown, subvolume: Subvolume | undefined, at: string): ConfigError[] {
  if (typeof forkLimit !== "string" || subvolume === undefined || typeof subvolume.limit === "string") return [];
  return [{ path: `${at}.forkLimit`, message: `needs btrfs quotas: give subvolume "${subvolume.name}" a limit too` }];
}

/** The pool runs upwards and holds a port for every instance. */
export function portPoolErrors(ports: DeepPartial<PortRange> | undefined, instanceCount: number, at: string): ConfigError[] {
  const from = ports?.from;
  const to = ports?.to;
  if (typeof from !== "number" || typeof to !== "number") return [];
  if (from > to) return [{ path: `${at}.ports`, message: `from (${from}) is greater than to (${to})` }];
  if (to - from + 1 < instanceCount) return [{ path: `${at}.ports`, message: `holds ${to - from + 1} ports for ${instanceCount} instances` }];
  return [];
}

/** Names the service itself refuses, and what refuses them, as the error message puts it. */
export interface ReservedNames {
  names: string[];
  by: string;
}

/**
 * Instance names are unique and not reserved, a fork names an instance declared before it, and a
 * protected instance sits on a protected volume.
 */
export function instanceListErrors(instances: (Instance | undefined)[], at: string, volume: Volume | undefined, reserved: ReservedNames): ConfigError[] {
  const errors: ConfigError[] = [];
  const names = instances.map((i) => i?.name);
  instances.forEach((instance, i) => {
    const path = `${at}.instances[${i}]`;
    const name = instance?.name;
    if (typeof name === "string" && names.indexOf(name) !== i) errors.push({ path: `${path}.name`, message: `duplicate instance name "${name}"` });
    if (typeof name === "string" && reserved.names.includes(name)) errors.push({ path: `${path}.name`, message: `"${name}" is reserved by ${reserved.by}` });
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
