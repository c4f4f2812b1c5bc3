import type { FirewallConfig, HostConfig } from "./types";
import { networkListErrors } from "./service-instances-validate";
import type { ConfigError, DeepPartial } from "./validate";

/**
 * The admin networks are networks, each once; the SSH port lies in no service's port pool (the
 * pool's rule would open SSH to the service's clients, and SSH's rule the pool to the admins).
 */
export function firewallErrors(host: DeepPartial<HostConfig> | undefined, at: string): ConfigError[] {
  const firewall = host?.firewall as DeepPartial<FirewallConfig> | undefined;
  if (firewall == null || typeof firewall !== "object") return [];
  const errors = networkListErrors(firewall.adminNetworks, `${at}.adminNetworks`);
  const sshPort = typeof firewall.sshPort === "number" ? firewall.sshPort : host?.ssh?.port ?? 22;
  const hostAt = at.slice(0, -".firewall".length);
  const portPath = typeof firewall.sshPort === "number" || host?.ssh?.port == null ? `${at}.sshPort` : `${hostAt}.ssh.port`;
  for (const service of ["sparkPg", "redis"] as const) {
    const ports = host?.[service]?.ports;
    if (typeof ports?.from === "number" && typeof ports.to === "number" && sshPort >= ports.from && sshPort <= ports.to) {
      errors.push({ path: portPath, message: `the SSH port ${sshPort} lies in ${service}.ports (${ports.from}-${ports.to}): SSH and the pool would open to each other's networks` });
    }
  }
  return errors;
}
