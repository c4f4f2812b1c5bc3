/**
 * Fleet config: blocks that hosts share. `sparks:hostDefaults` is a partial host every host
 * extends; `sparks:roles` names partial hosts that a host takes with `roles: [<name>, ...]`. A host
 * is `hostDefaults`, then its roles in the order it lists them, then its own entry, merged deeply:
 *
 * - objects merge by key, the later value winning;
 * - lists of named items (volumes, subvolumes, instances, networks, images, guests: every item has
 *   a `name`) merge by name, so a host overrides one volume's `device` and keeps the rest; new
 *   names are appended in the order written;
 * - every other value, an empty list included, replaces (`packages`, `mountOptions`, `save`).
 *
 * The merged hosts then go through the one definition of a host (stacks/schema.ts, validate.ts)
 * unchanged. An error is reported where the value is written: a value wrong on its own at the
 * shared block (`roles.db.redis.maxmemory`), anything else at the host, named
 * (`hosts[1] (prod-2).sparkPg.lisen`). A path into a merged host that no one wrote counts items in
 * the merged lists (the shared blocks' items first).
 *
 * A shared block sets neither a host's `name` nor `ssh.privateKey`: the program reads a host's
 * own key as a secret at `hosts[N].ssh.privateKey` only (stacks/secret-paths.ts).
 */
import Ajv from "ajv";
import { describeAjvError } from "../lib/schema-errors";
import { patterns } from "../lib/patterns";
import { stackConfigSchema } from "./schema";
import { type ConfigError, nullErrors, stackConfigErrorKinds } from "./validate";

/** The top-level keys of the shared blocks; the rest of the config is the stack config proper. */
export const FLEET_KEYS = ["hostDefaults", "roles"] as const;

/** What the fleet step hands on: the stack config with every host merged, and its own errors. */
export interface ExpandedFleet {
  /** The config without the fleet keys, each host merged; what the existing validation reads. */
  config: Record<string, unknown>;
  /** Errors of the fleet blocks themselves (their shape, unknown roles, refused keys). */
  errors: ConfigError[];
  /** Moves errors of the merged config to where the faulty value is written. */
  locate: (errors: { values: ConfigError[]; spanning: ConfigError[] }) => ConfigError[];
}

/** Every error of a stack config that may use the fleet keys, and the config with hosts merged. */
export function fleetConfigErrors(raw: unknown): { config: Record<string, unknown>; errors: ConfigError[] } {
  const fleet = expandFleet(raw);
  return { config: fleet.config, errors: unique([...fleet.errors, ...fleet.locate(stackConfigErrorKinds(fleet.config))]) };
}

/** A partial host, as a shared block writes it: every key optional, but a named item keeps its name. */
function partialSchema(schema: any, named = false): any {
  if (Array.isArray(schema)) return schema.map((inner) => partialSchema(inner));
  if (schema === null || typeof schema !== "object") return schema;
  const out: any = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "required") out.required = named ? ["name"] : [];
    else if (key === "items") out.items = partialSchema(value, typeof (value as any)?.properties?.name === "object");
    else if (key === "properties") out.properties = Object.fromEntries(Object.entries(value as object).map(([name, inner]) => [name, partialSchema(inner)]));
    else out[key] = partialSchema(value);
  }
  return out;
}

const hostSchema = (stackConfigSchema.properties as any).hosts.items;
const validateBlock = new Ajv({ allErrors: true, strict: true, useDefaults: false }).compile(partialSchema(hostSchema));

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);
const isNamedList = (value: unknown): value is Record<string, unknown>[] =>
  Array.isArray(value) && value.length > 0 && value.every((item) => isObject(item) && typeof item.name === "string");
const join = (at: string, key: string) => (at === "" ? key : `${at}.${key}`);
const unique = (errors: ConfigError[]) => errors.filter((e, i) => errors.findIndex((o) => o.path === e.path && o.message === e.message) === i);

/**
 * Where each node of a merged host came from: its path relative to the host -> the absolute paths
 * of the blocks that wrote it (`roles.db.btrfs.volumes[0]`), in merge order.
 */
type Trace = Map<string, string[]>;

/** `over` laid on `base` (both at `at` in the merged host; `over` written at `from`). */
function layer(base: unknown, over: unknown, at: string, from: string, trace: Trace): unknown {
  if (isObject(base) && isObject(over)) {
    trace.get(at)?.push(from) ?? trace.set(at, [from]);
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(over)) out[key] = layer(base[key], value, join(at, key), `${from}.${key}`, trace);
    return out;
  }
  if (isNamedList(base) && isNamedList(over)) {
    trace.get(at)?.push(from) ?? trace.set(at, [from]);
    const out = [...base];
    // A name written twice in one block stays twice, so validation still reports the duplicate.
    const taken = new Set<number>();
    over.forEach((item, j) => {
      const found = out.findIndex((old, i) => old.name === item.name && !taken.has(i) && i < base.length);
      const index = found < 0 ? out.length : found;
      taken.add(index);
      out[index] = layer(found < 0 ? undefined : out[found], item, `${at}[${index}]`, `${from}[${j}]`, trace) as Record<string, unknown>;
    });
    return out;
  }
  for (const key of [...trace.keys()]) if (key === at || key.startsWith(`${at}.`) || key.startsWith(`${at}[`) || at === "") trace.delete(key);
  record(over, at, from, trace);
  return structuredClone(over);
}

function record(value: unknown, at: string, from: string, trace: Trace): void {
  trace.set(at, [from]);
  if (Array.isArray(value)) value.forEach((item, i) => record(item, `${at}[${i}]`, `${from}[${i}]`, trace));
  else if (isObject(value)) for (const [key, inner] of Object.entries(value)) record(inner, join(at, key), `${from}.${key}`, trace);
}

/** `.a.b[2].c` -> its prefixes, shortest first: ["", "a", "a.b", "a.b[2]", "a.b[2].c"]. */
function prefixes(rel: string): string[] {
  const out = [""];
  for (const match of rel.matchAll(/\.?([^.[\]]+)|\[(\d+)\]/g)) {
    const last = out[out.length - 1];
    out.push(match[2] === undefined ? join(last, match[1]) : `${last}[${match[2]}]`);
  }
  return out;
}

/** Errors of a block that only a host may set. */
function refusedInBlock(block: Record<string, unknown>, at: string): ConfigError[] {
  const errors: ConfigError[] = [];
  if ("name" in block) errors.push({ path: `${at}.name`, message: "is each host's own: set it on the host" });
  if (isObject(block.ssh) && "privateKey" in block.ssh) {
    errors.push({
      path: `${at}.ssh.privateKey`,
      message: "may not be shared: a host's own key is set on the host, as a secret (pulumi config set --secret --path 'hosts[N].ssh.privateKey'), or for all as sshPrivateKey",
    });
  }
  return errors;
}

function blockErrors(block: unknown, at: string): ConfigError[] {
  if (!isObject(block)) return [{ path: at, message: "must be object: a partial host" }];
  const schema = validateBlock(block) ? [] : (validateBlock.errors ?? []).map(describeAjvError).map((e) => ({ ...e, path: e.path === "(root)" ? at : `${at}.${e.path}` }));
  return [...nullErrors(block, at), ...schema, ...refusedInBlock(block, at)];
}

/**
 * Splits the fleet keys off `raw` and merges each host. Without them (or a host without roles
 * when there are no defaults) a host is passed on as written, and its errors keep their paths.
 */
export function expandFleet(raw: unknown): ExpandedFleet {
  if (!isObject(raw)) return { config: raw as Record<string, unknown>, errors: [], locate: ({ values, spanning }) => [...values, ...spanning] };
  const { hostDefaults, roles, ...rest } = raw;
  const errors: ConfigError[] = [];
  if (hostDefaults !== undefined) errors.push(...blockErrors(hostDefaults, "hostDefaults"));
  const roleBlocks = isObject(roles) ? roles : {};
  if (roles !== undefined && !isObject(roles)) errors.push({ path: "roles", message: "must be object: role name -> partial host" });
  for (const [name, block] of Object.entries(roleBlocks)) {
    if (!new RegExp(patterns.name).test(name)) errors.push({ path: `roles.${name}`, message: `role name must match ${patterns.name}` });
    errors.push(...blockErrors(block, `roles.${name}`));
  }

  const hosts = Array.isArray(rest.hosts) ? rest.hosts : undefined;
  const traces: (Trace | undefined)[] = [];
  const labels: string[] = [];
  const merged = hosts?.map((host, h) => {
    const label = isObject(host) && typeof host.name === "string" ? `hosts[${h}] (${host.name})` : `hosts[${h}]`;
    labels.push(label);
    if (!isObject(host) || (hostDefaults === undefined && host.roles === undefined)) return host;
    const { roles: taken, ...own } = host;
    const names = Array.isArray(taken) ? taken : [];
    if (taken !== undefined && !Array.isArray(taken)) errors.push({ path: `${label}.roles`, message: "must be a list of role names" });
    const trace: Trace = new Map();
    let value: unknown = {};
    if (isObject(hostDefaults)) value = layer(value, hostDefaults, "", "hostDefaults", trace);
    names.forEach((role, r) => {
      if (typeof role !== "string" || !isObject(roleBlocks[role])) {
        const known = Object.keys(roleBlocks);
        errors.push({ path: `${label}.roles[${r}]`, message: `unknown role ${JSON.stringify(role)} (${known.length === 0 ? "sparks:roles defines none" : `roles: ${known.join(", ")}`})` });
      } else if (names.indexOf(role) !== r) {
        errors.push({ path: `${label}.roles[${r}]`, message: `role "${role}" is listed twice` });
      } else value = layer(value, roleBlocks[role], "", `roles.${role}`, trace);
    });
    value = layer(value, own, "", label, trace);
    traces[h] = trace;
    return value;
  });

  const locateOne = (error: ConfigError, ownValue: boolean): ConfigError => {
    const match = /^hosts\[(\d+)\](.*)$/.exec(error.path);
    const trace = match ? traces[Number(match[1])] : undefined;
    if (!match || !trace) return error;
    const rel = match[2].replace(/^\./, "");
    const steps = prefixes(rel).filter((p) => trace.has(p));
    const deepest = steps[steps.length - 1];
    const sources = trace.get(deepest) as string[];
    const rest = rel.slice(deepest.length).replace(/^\./, "");
    const at = (base: string) => (rest === "" ? base : rest.startsWith("[") ? `${base}${rest}` : `${base}.${rest}`);
    const label = labels[Number(match[1])];
    // A value wrong on its own is wrong where it is written; a rule across fields is the host's.
    if (ownValue && deepest === rel && sources.length === 1) return { ...error, path: sources[0] };
    const own = sources.find((source) => source.startsWith(label));
    return { ...error, path: at(own ?? (deepest === "" ? label : `${label}.${deepest}`)) };
  };

  return {
    config: merged === undefined ? rest : { ...rest, hosts: merged },
    errors,
    locate: ({ values, spanning }) => unique([...values.map((e) => locateOne(e, true)), ...spanning.map((e) => locateOne(e, false))]),
  };
}
