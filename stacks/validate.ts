import Ajv from "ajv";
import { describeAjvError, type PathError } from "../lib/schema-errors";
import { redisErrors } from "./redis-validate";
import { kvmErrors } from "./kvm-validate";
import { clientsErrors, forkLimitErrors, instanceListErrors, listenErrors, portPoolErrors, serviceStorage } from "./service-instances-validate";
import { stackConfigSchema } from "./schema";
import { firewallErrors } from "./firewall-validate";
import { tlsErrors } from "./tls-validate";
import type { HostConfig, StackConfig } from "./types";

/** One broken rule, located by its config path, e.g. `hosts[1].btrfs.volumes[0].device`. */
export type ConfigError = PathError;

export class ConfigValidationError extends Error {
  constructor(readonly errors: ConfigError[]) {
    super(
      `invalid stack config (${errors.length} error${errors.length === 1 ? "" : "s"}):\n` +
        errors.map((e) => `  ${e.path}: ${e.message}`).join("\n"),
    );
    this.name = "ConfigValidationError";
  }
}

const ajv = new Ajv({ allErrors: true, strict: true, useDefaults: false });
const validateSchema = ajv.compile(stackConfigSchema);

/** Every error in a stack config: the schema's rules, then the rules that span fields. */
export function stackConfigErrors(raw: unknown): ConfigError[] {
  const { values, spanning } = stackConfigErrorKinds(raw);
  return [...values, ...spanning];
}

/**
 * The same errors in two kinds: a value wrong on its own (null, the schema), which is wrong where it
 * is written, and a rule that spans fields (stacks/fleet.ts tells a shared block's values from a host's).
 */
export function stackConfigErrorKinds(raw: unknown): { values: ConfigError[]; spanning: ConfigError[] } {
  const schemaErrors = validateSchema(raw) ? [] : (validateSchema.errors ?? []).map(describeAjvError);
  return { values: [...nullErrors(raw, ""), ...schemaErrors], spanning: crossFieldErrors(raw as DeepPartial<StackConfig>) };
}

/** Cross-field rules also run on a config that breaks the schema, so one run reports everything. */
export type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

/** Mount options of which the kernel silently keeps one: declaring both would never verify. */
const CONFLICTING_OPTIONS: [RegExp, RegExp][] = [
  [/^noatime$/, /^relatime$/],
  [/^ssd$/, /^nossd$/],
  [/^compress=/, /^compress-force=/],
  [/^compress(-force)?=/, /^nodatacow$/],
];

/** Top-level directories of the OS that a volume must never be mounted over or under. */
/** Where a volume may not be mounted: on, inside or above one of these (a mount over /var would hide dpkg's database and the ownership claims). */
const SYSTEM_PATHS = ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/run", "/sbin", "/sys", "/usr", "/var/lib/dpkg", "/var/lib/sparks"];

/**
 * A key written without a value (`hostKey:` in YAML) arrives as null; ajv's typed schemas accept
 * null for every optional field, so it is caught here rather than read later as "not pinned".
 */
export function nullErrors(value: unknown, path: string): ConfigError[] {
  if (value === null) return [{ path: path || "(root)", message: "has no value: give one, or remove the key for its default" }];
  if (Array.isArray(value)) return value.flatMap((item, i) => nullErrors(item, `${path}[${i}]`));
  if (typeof value === "object") {
    return Object.entries(value as object).flatMap(([key, inner]) => nullErrors(inner, path ? `${path}.${key}` : key));
  }
  return [];
}

const list = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : []);

function crossFieldErrors(config: DeepPartial<StackConfig>): ConfigError[] {
  const errors: ConfigError[] = [];
  const duplicates = (values: unknown[], at: (index: number) => string, what: string) =>
    values.forEach((value, index) => {
      if (typeof value === "string" && values.indexOf(value) !== index) {
        errors.push({ path: at(index), message: `duplicate ${what} "${value}"` });
      }
    });

  const hosts = list(config?.hosts);
  duplicates(hosts.map((h) => h?.name), (i) => `hosts[${i}].name`, "host name");
  // Components are named `<host>-<volume>`: host "a-b" with volume "c" and host "a" with volume "b-c" collide.
  const componentNames = hosts.flatMap((h, i) => list(h?.btrfs?.volumes).map((v, j) => ({ name: `${h?.name}-${v?.name}`, at: `hosts[${i}].btrfs.volumes[${j}].name` })));
  componentNames.forEach(({ name, at }, index) => {
    if (componentNames.findIndex((other) => other.name === name) !== index) {
      errors.push({ path: at, message: `makes the resource name "${name}" a second time (host and volume names are joined with "-")` });
    }
  });
  hosts.forEach((host, h) => {
    const ssh = host?.ssh;
    const at = `hosts[${h}].ssh`;
    if (ssh?.sandbox === true) {
      for (const key of ["address", "port", "user", "hostKey"] as const) {
        if (ssh[key] != null) errors.push({ path: `${at}.${key}`, message: "must not be set when sandbox is true: the sandbox state provides it" });
      }
    } else if (ssh && typeof ssh === "object") {
      if (ssh.address == null) errors.push({ path: `${at}.address`, message: "is required" });
      if (ssh.hostKey == null) {
        errors.push({ path: `${at}.hostKey`, message: "is required: pin the host's ed25519 key (only a host with sandbox: true may omit it)" });
      }
    }
    const volumes = list(host?.btrfs?.volumes);
    const volumePath = (v: number) => `hosts[${h}].btrfs.volumes[${v}]`;
    duplicates(volumes.map((v) => v?.name), (v) => `${volumePath(v)}.name`, "volume name");
    duplicates(volumes.map((v) => v?.device), (v) => `${volumePath(v)}.device`, "device");
    duplicates(volumes.map((v) => v?.label), (v) => `${volumePath(v)}.label`, "label");
    duplicates(volumes.map((v) => v?.mountpoint), (v) => `${volumePath(v)}.mountpoint`, "mountpoint");
    volumes.forEach((volume, v) => {
      const mountpoint = volume?.mountpoint;
      const system = typeof mountpoint === "string" && SYSTEM_PATHS.find((p) => mountpoint === p || mountpoint.startsWith(`${p}/`));
      if (system) errors.push({ path: `${volumePath(v)}.mountpoint`, message: `is the system directory ${system} or inside it` });
      const hidden = typeof mountpoint === "string" && !system && SYSTEM_PATHS.find((p) => p.startsWith(`${mountpoint}/`));
      if (hidden) errors.push({ path: `${volumePath(v)}.mountpoint`, message: `holds the system directory ${hidden}, which a mount there would hide` });
      volumes.forEach((other, o) => {
        const inside = typeof volume?.mountpoint === "string" && typeof other?.mountpoint === "string" &&
          volume.mountpoint.startsWith(`${other.mountpoint}/`);
        if (o !== v && inside) {
          errors.push({ path: `${volumePath(v)}.mountpoint`, message: `is inside volume "${other?.name}" (${other?.mountpoint})` });
        }
      });
      const options = list(volume?.mountOptions).filter((o): o is string => typeof o === "string");
      for (const [a, b] of CONFLICTING_OPTIONS) {
        const first = options.find((o) => a.test(o));
        const second = options.find((o) => b.test(o));
        if (first && second) {
          errors.push({ path: `${volumePath(v)}.mountOptions`, message: `"${first}" and "${second}" contradict each other: the kernel keeps only one` });
        }
      }
      const subvolumes = list(volume?.subvolumes);
      duplicates(subvolumes.map((s) => s?.name), (s) => `${volumePath(v)}.subvolumes[${s}].name`, "subvolume name");
    });
    errors.push(...sharedSubvolumeErrors(host, `hosts[${h}]`));
    errors.push(...sparkPgErrors(host, `hosts[${h}].sparkPg`));
    errors.push(...redisErrors(host, `hosts[${h}].redis`));
    errors.push(...kvmErrors(host, `hosts[${h}].kvm`));
    errors.push(...tlsErrors(host?.tls, `hosts[${h}].tls`));
    errors.push(...firewallErrors(host, `hosts[${h}].firewall`));
  });
  return errors;
}

/** Each service has a subvolume of its own: two on one would see each other's instances and `.snapshots`. */
function sharedSubvolumeErrors(host: DeepPartial<HostConfig> | undefined, at: string): ConfigError[] {
  const services = (["sparkPg", "redis", "kvm"] as const).flatMap((key) => {
    const service = host?.[key];
    return service != null && typeof service === "object" && typeof service.volume === "string" && typeof service.subvolume === "string"
      ? [{ key, place: `${service.volume}/${service.subvolume}` }]
      : [];
  });
  return services.flatMap((service, i) => {
    const first = services.findIndex((other) => other.place === service.place);
    return first < i ? [{ path: `${at}.${service.key}.subvolume`, message: `is also the subvolume of ${services[first].key} (${service.place}): each service needs its own` }] : [];
  });
}

/** Role names Postgres refuses or that would be the superuser; the host tool refuses them too. */
const RESERVED_PG_NAMES = ["postgres", "public", "none"];

function sparkPgErrors(host: DeepPartial<HostConfig> | undefined, at: string): ConfigError[] {
  const pg = host?.sparkPg;
  if (pg == null || typeof pg !== "object") return [];
  const { volume, subvolume, errors } = serviceStorage(host, pg, at);
  errors.push(...listenErrors(pg.listen, at), ...clientsErrors(pg.clients, pg.listen, at), ...forkLimitErrors(pg.forkLimit, subvolume, at));
  const instances = list(pg.instances);
  errors.push(...portPoolErrors(pg.ports, instances.length, at));
  errors.push(...instanceListErrors(instances, at, volume, { names: RESERVED_PG_NAMES, by: `Postgres (${RESERVED_PG_NAMES.join(", ")})` }));
  return errors;
}
