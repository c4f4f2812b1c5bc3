import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { readConnection } from "../sandbox/connection";
import { statePaths } from "../sandbox/paths";
import type { HostConfig, StackConfig } from "./types";
import { ConfigValidationError, type DeepPartial, stackConfigErrors } from "./validate";

export const PROJECT = "sparks";

/** Config keys that hold secrets; they are read with requireSecret and stay out of the schema. */
export const SECRET_KEYS = ["sshPrivateKey"] as const;

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
export function loadStackConfig(): ResolvedHost[] {
  const raw = rawProjectConfig();
  const sandboxConnectionFile = statePaths().connection;
  const hosts = Array.isArray(raw.hosts) ? (raw.hosts as DeepPartial<HostConfig>[]) : [];
  const needsKey = hosts.some((host) => host?.ssh?.sandbox !== true);
  const sandbox = hosts.some((host) => host?.ssh?.sandbox === true) ? readConnection(sandboxConnectionFile) : undefined;

  const errors = stackConfigErrors(raw);
  if (needsKey && !(`${PROJECT}:sshPrivateKey` in pulumi.runtime.allConfig())) {
    errors.push({ path: "sshPrivateKey", message: "is required: pulumi config set --secret sshPrivateKey < KEYFILE" });
  }
  hosts.forEach((host, index) => {
    if (host?.ssh?.sandbox === true && sandbox === undefined) {
      errors.push({
        path: `hosts[${index}].ssh.sandbox`,
        message: `no sandbox host is up (no ${sandboxConnectionFile}): run npm run sandbox -- up`,
      });
    }
  });
  if (errors.length > 0) throw new ConfigValidationError(errors);

  const config = raw as unknown as StackConfig;
  const stackKey = needsKey ? new pulumi.Config(PROJECT).requireSecret("sshPrivateKey") : undefined;
  return config.hosts.map((host) => {
    if (host.ssh.sandbox && sandbox) {
      return {
        config: host,
        connection: {
          address: sandbox.address,
          port: sandbox.port,
          user: sandbox.user,
          hostKey: sandbox.hostKey,
          privateKey: pulumi.secret(readFileSync(sandbox.privateKeyPath, "utf8")),
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
        privateKey: stackKey as pulumi.Output<string>,
      },
    };
  });
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

function parseConfigValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
