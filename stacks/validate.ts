import Ajv from "ajv";
import { describeAjvError, type PathError } from "../lib/schema-errors";
import { stackConfigSchema } from "./schema";
import type { StackConfig } from "./types";

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
  const schemaErrors = validateSchema(raw) ? [] : (validateSchema.errors ?? []).map(describeAjvError);
  return [...schemaErrors, ...crossFieldErrors(raw as DeepPartial<StackConfig>)];
}

/** Cross-field rules also run on a config that breaks the schema, so one run reports everything. */
type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

const list = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : []);

/** Returns the config typed when it is valid; throws every error at once when it is not. */
export function validateStackConfig(raw: unknown): StackConfig {
  const errors = stackConfigErrors(raw);
  if (errors.length > 0) throw new ConfigValidationError(errors);
  return raw as StackConfig;
}

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
  hosts.forEach((host, h) => {
    const ssh = host?.ssh;
    const at = `hosts[${h}].ssh`;
    if (ssh?.sandbox === true) {
      for (const key of ["address", "port", "user", "hostKey"] as const) {
        if (ssh[key] !== undefined) errors.push({ path: `${at}.${key}`, message: "must not be set when sandbox is true: the sandbox state provides it" });
      }
    } else if (ssh && typeof ssh === "object") {
      if (ssh.address === undefined) errors.push({ path: `${at}.address`, message: "is required" });
      if (ssh.hostKey === undefined) {
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
      volumes.forEach((other, o) => {
        const inside = typeof volume?.mountpoint === "string" && typeof other?.mountpoint === "string" &&
          volume.mountpoint.startsWith(`${other.mountpoint}/`);
        if (o !== v && inside) {
          errors.push({ path: `${volumePath(v)}.mountpoint`, message: `is inside volume "${other?.name}" (${other?.mountpoint})` });
        }
      });
      const subvolumes = list(volume?.subvolumes);
      duplicates(subvolumes.map((s) => s?.name), (s) => `${volumePath(v)}.subvolumes[${s}].name`, "subvolume name");
    });
  });
  return errors;
}
