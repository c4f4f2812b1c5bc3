import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import * as pulumi from "@pulumi/pulumi";
import { readConnection } from "../sandbox/connection";
import { statePaths } from "../sandbox/paths";
import { FLEET_KEYS, fleetConfigErrors } from "./fleet";
import { TLS_DEFAULTS, type OperatorCa } from "../components/host-tls";
import { operatorCaErrors } from "./operator-ca";
import { misplacedSecrets, secureLeafPaths } from "./secret-paths";
import type { HostConfig, StackConfig } from "./types";
import { ConfigValidationError, type DeepPartial } from "./validate";

export const PROJECT = "sparks";

/** Config keys that hold secrets; they are read with requireSecret and stay out of the schema. */
export const SECRET_KEYS = ["sshPrivateKey", "tlsCaKey"] as const;

export interface HostConnection {
  address: string;
  port: number;
  user: string;
  hostKey: string;
  privateKey: pulumi.Output<string>;
  /** Key file verify logs in with; only for the sandbox host, whose key is a throwaway file. */
  identityFile?: string;
}

export interface ResolvedHost {
  config: HostConfig;
  connection: HostConnection;
}

/**
 * Reads the `sparks:` config of the current stack, validates all of it, and resolves each host's
 * connection. Throws one ConfigValidationError listing every problem; call it before registering
 * any resource, so an invalid config registers nothing.
 */
export function loadStackConfig(): { hosts: ResolvedHost[]; converge: string; tlsCa?: OperatorCa } {
  // Hosts merged with the shared blocks first: every rule below reads a host as it is deployed.
  const { config: expanded, errors } = fleetConfigErrors(rawProjectConfig());
  const sandboxConnectionFile = statePaths().connection;
  const hosts = Array.isArray(expanded.hosts) ? (expanded.hosts as DeepPartial<HostConfig>[]) : [];
  const needsKey = hosts.some((host) => host?.ssh?.sandbox !== true && host?.ssh?.privateKey == null);
  const hostsSecret = isConfigSecret(`${PROJECT}:hosts`);
  const sandbox = hosts.some((host) => host?.ssh?.sandbox === true) ? readConnection(sandboxConnectionFile) : undefined;

  if (needsKey && !(`${PROJECT}:sshPrivateKey` in pulumi.runtime.allConfig())) {
    errors.push({ path: "sshPrivateKey", message: "is required: pulumi config set --secret sshPrivateKey < KEYFILE" });
  }
  errors.push(...misplacedSecrets(hostsSecret ? stackFileSecretPaths("hosts") : []));
  // The engine says only that a whole key holds a secret; a shared block may hold none.
  for (const key of FLEET_KEYS) {
    if (!isConfigSecret(`${PROJECT}:${key}`)) continue;
    const paths = stackFileSecretPaths(key);
    errors.push(...misplacedSecrets(paths.length > 0 ? paths : [key]));
  }
  const caKey = pulumi.runtime.allConfig()[`${PROJECT}:tlsCaKey`];
  const longestValidDays = Math.max(...hosts.map((host) => (typeof host?.tls?.validDays === "number" ? host.tls.validDays : TLS_DEFAULTS.validDays)));
  errors.push(...operatorCaErrors({ certificate: expanded.tlsCaCertificate, key: caKey, keyIsSecret: isConfigSecret(`${PROJECT}:tlsCaKey`), longestValidDays }));
  hosts.forEach((host, index) => {
    if (host?.ssh?.privateKey != null && !hostsSecret) {
      errors.push({
        path: `hosts[${index}].ssh.privateKey`,
        message: `must be a secret: pulumi config set --secret --path 'hosts[${index}].ssh.privateKey' < KEYFILE`,
      });
    }
    if (host?.ssh?.sandbox === true && sandbox === undefined) {
      errors.push({
        path: `hosts[${index}].ssh.sandbox`,
        message: `no sandbox host is up (no ${sandboxConnectionFile}): run npm run sandbox -- up`,
      });
    }
  });
  if (errors.length > 0) throw new ConfigValidationError(errors);

  const config = expanded as unknown as StackConfig;
  const stackKey = needsKey ? new pulumi.Config(PROJECT).requireSecret("sshPrivateKey") : undefined;
  // The secret paths come from a secret Output of the whole key; the plain copy loses them, so no
  // plain value of theirs can reach a command, the state or an output.
  const secretHosts = hostsSecret ? new pulumi.Config(PROJECT).requireSecretObject<StackConfig["hosts"]>("hosts") : undefined;
  const hostKeyOf = (index: number) => (secretHosts as pulumi.Output<StackConfig["hosts"]>).apply((all) => all[index].ssh.privateKey as string);
  const hostsResolved = config.hosts.map((host, index): ResolvedHost => {
    const ownKey = host.ssh.privateKey == null ? undefined : hostKeyOf(index);
    delete host.ssh.privateKey;
    if (host.ssh.sandbox && sandbox) {
      return {
        config: host,
        connection: {
          address: sandbox.address,
          port: sandbox.port,
          user: sandbox.user,
          hostKey: sandbox.hostKey,
          privateKey: ownKey ?? pulumi.secret(readFileSync(sandbox.privateKeyPath, "utf8")),
          identityFile: sandbox.privateKeyPath,
        },
      };
    }
    return {
      config: host,
      connection: {
        address: host.ssh.address as string,
        port: host.ssh.port ?? 22,
        user: host.ssh.user ?? "root",
        hostKey: withoutComment(host.ssh.hostKey as string),
        privateKey: ownKey ?? (stackKey as pulumi.Output<string>),
      },
    };
  });
  const tlsCa: OperatorCa | undefined =
    config.tlsCaCertificate === undefined ? undefined : { certificate: config.tlsCaCertificate, key: new pulumi.Config(PROJECT).requireSecret("tlsCaKey") };
  return { hosts: hostsResolved, converge: config.converge ?? "", tlsCa };
}

/**
 * Whether the engine passed the key as a secret: the SDK's own test (it warns on `config.get` of
 * one), exported by its config module but left out of its typings.
 */
const isConfigSecret = (key: string): boolean =>
  (require("@pulumi/pulumi/runtime/config") as { isConfigSecret: (key: string) => boolean }).isConfigSecret(key);

/**
 * The secret paths the stack file marks (`secure:` values inside `sparks:<key>`), where the engine
 * runs the program: in the project directory, beside `Pulumi.<stack>.yaml`. Without the file
 * (config from elsewhere) there is nothing to check here.
 */
function stackFileSecretPaths(key: string): string[] {
  const file = path.join(process.cwd(), `Pulumi.${pulumi.getStack()}.yaml`);
  if (!existsSync(file)) return [];
  const document = (parse(readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  return secureLeafPaths(document.config?.[`${PROJECT}:${key}`], key);
}

/** "ssh-ed25519 AAAA... root@host" -> "ssh-ed25519 AAAA...": the key alone is what gets pinned. */
function withoutComment(authorizedKey: string): string {
  return authorizedKey.split(" ").slice(0, 2).join(" ");
}

/** The stack's non-secret `sparks:` keys as one object; values that are JSON are parsed. */
function rawProjectConfig(): Record<string, unknown> {
  const prefix = `${PROJECT}:`;
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    if ((SECRET_KEYS as readonly string[]).includes(name)) continue;
    raw[name] = parseConfigValue(value);
  }
  return raw;
}

/** Object and array values reach the program as JSON (Pulumi's structured config); others are strings. */
function parseConfigValue(value: string): unknown {
  if (!/^\s*[[{]/.test(value)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
