import { findings } from "./causes";
import type { VerifyResult } from "./types";

/** The result as JSON, with each host's findings (root failure and the checks folded under it) by name. */
export function formatJson(result: VerifyResult): string {
  const hosts = result.hosts.map((host) => ({
    ...host,
    findings: findings(host.checks).map((f) => ({ check: f.root.name, followers: f.consequences.map((c) => c.name) })),
  }));
  return `${JSON.stringify({ ...result, hosts }, null, 2)}\n`;
}
