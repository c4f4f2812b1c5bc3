import { setTimeout as delay } from "node:timers/promises";
import type { HostExpectation, VerifyManifest } from "./manifest";
import { sshCheckNames, summarize, verifyHost, type VerifyOptions } from "./run";
import type { CheckResult, HostResult, VerifyResult } from "./types";

export interface WaitOptions {
  /** How long a host may take to pass, from the start; it is checked again until then. */
  waitMs: number;
  /** Pause between two runs on one host. Default 5 s. */
  intervalMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** How one host is checked once; default `verifyHost`. */
  verify?: (host: HostExpectation, options: VerifyOptions) => Promise<HostResult>;
}

/**
 * Verify for a deploy gate: every host is checked again, all of its checks, until it passes or the
 * time is up, and each check says how many runs it took to end as it did. Hosts wait concurrently,
 * each over its own connection per run. A host that shows a wrong host key is not asked again:
 * waiting does not change a key, and the gate should not keep logging in to an impostor.
 */
export async function verifyWithWait(manifest: VerifyManifest, options: VerifyOptions, wait: WaitOptions): Promise<VerifyResult> {
  const now = wait.now ?? Date.now;
  const deadline = now() + wait.waitMs;
  const hosts = await Promise.all(manifest.hosts.map((host) => waitForHost(host, options, wait, deadline, now)));
  return { project: manifest.project, stack: manifest.stack, hosts, summary: summarize(hosts) };
}

async function waitForHost(host: HostExpectation, options: VerifyOptions, wait: WaitOptions, deadline: number, now: () => number): Promise<HostResult> {
  const verify = wait.verify ?? verifyHost;
  const sleep = wait.sleep ?? ((ms: number) => delay(ms));
  const interval = wait.intervalMs ?? 5_000;
  const lastFailedRun = new Map<string, number>();
  for (let run = 1; ; run++) {
    const result = await verify(host, options);
    for (const check of result.checks) if (check.status === "fail") lastFailedRun.set(check.name, run);
    const settled = !result.checks.some((c) => c.status === "fail") || hostKeyRefused(result);
    if (settled || now() + interval >= deadline) return run === 1 ? result : withAttempts(result, run, lastFailedRun);
    await sleep(interval);
  }
}

const hostKeyRefused = (result: HostResult) => result.checks.some((c) => c.name === sshCheckNames.hostKey && c.status === "fail");

/** A check that ends passing took the runs up to one after its last failure; a failing one, all of them. */
function withAttempts(result: HostResult, runs: number, lastFailedRun: Map<string, number>): HostResult {
  const attempts = (check: CheckResult) => (check.status === "fail" ? runs : (lastFailedRun.get(check.name) ?? 0) + 1);
  return { ...result, checks: result.checks.map((check) => (check.status === "skip" ? check : { ...check, attempts: attempts(check) })) };
}
