import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { projectRoot } from "../lib/project-root";

/** The per-host service blocks of the sandbox stack; each test or benchmark keeps the ones it is about. */
export const SANDBOX_SERVICES = ["sparkPg", "redis", "kvm"] as const;
export type SandboxService = (typeof SANDBOX_SERVICES)[number];

export interface StackVariant {
  /** The services kept on every host; the others are left out, so their packages are never installed. */
  services: readonly SandboxService[];
  /** Changes the parsed hosts before the file is written. */
  edit?: (hosts: any[]) => void;
  /** `sparks:converge`: a new value re-runs every command (drift repair). Default: unset. */
  converge?: string;
}

/**
 * Writes `dir/Pulumi.sandbox-<name>.yaml`: Pulumi.sandbox.yaml with only `services` (and the host
 * and its btrfs volumes), after `edit`. Returns its path. Tests and benchmarks apply these files so
 * that each exercises its own part of the stack, on ports and sizes of its own.
 */
export function writeSandboxStackVariant(dir: string, name: string, variant: StackVariant): string {
  const stack = parse(readFileSync(path.join(projectRoot(), "Pulumi.sandbox.yaml"), "utf8"));
  const hosts = stack.config["sparks:hosts"] as any[];
  for (const host of hosts) {
    for (const service of SANDBOX_SERVICES) if (!variant.services.includes(service)) delete host[service];
  }
  variant.edit?.(hosts);
  if (variant.converge !== undefined) stack.config["sparks:converge"] = variant.converge;
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `Pulumi.sandbox-${name}.yaml`);
  writeFileSync(file, stringify(stack));
  return file;
}
