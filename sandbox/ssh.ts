import type { ProcessOutput } from "zx";
import { pidAlive } from "./container";
import { say } from "./log";
import { sh } from "./sh";

export interface SshTarget {
  address: string;
  port: number;
  user: string;
  privateKeyPath: string;
  knownHosts: string;
}

export function sshArgs(t: SshTarget, connectTimeoutS = 3): string[] {
  return [
    "-F", "/dev/null",
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=yes",
    "-o", `UserKnownHostsFile=${t.knownHosts}`,
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "IdentitiesOnly=yes",
    "-o", `ConnectTimeout=${connectTimeoutS}`,
    "-o", "LogLevel=ERROR",
    "-i", t.privateKeyPath,
    "-p", String(t.port),
    `${t.user}@${t.address}`,
  ];
}

export function sshRun(t: SshTarget, command: string, timeoutMs = 30_000): Promise<ProcessOutput> {
  return sh`ssh ${sshArgs(t)} ${command}`.nothrow().timeout(timeoutMs);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitForSsh(t: SshTarget, nspawnPid: number, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  let lastReport = started;
  let lastError = "";
  while (Date.now() - started < timeoutMs) {
    if (!pidAlive(nspawnPid)) throw new Error("systemd-nspawn exited during boot");
    const r = await sshRun(t, "true", 10_000);
    if (r.exitCode === 0) return;
    lastError = r.stderr.trim().split("\n").pop() ?? "";
    if (Date.now() - lastReport >= 5_000) {
      lastReport = Date.now();
      say(`waiting for ssh on ${t.address}:${t.port} (${Math.round((Date.now() - started) / 1000)}s${lastError ? `: ${lastError}` : ""})`);
    }
    await sleep(500);
  }
  throw new Error(`ssh did not answer within ${timeoutMs / 1000}s${lastError ? ` (last: ${lastError})` : ""}`);
}

/** `running` or `degraded`; a degraded boot is reported, not fatal, since the failed unit is named. */
export async function waitForSystem(t: SshTarget, timeoutS = 60): Promise<string> {
  const r = await sshRun(t, `timeout ${timeoutS} systemctl is-system-running --wait`, (timeoutS + 10) * 1000);
  const state = r.stdout.trim();
  if (state === "degraded") {
    const failed = await sshRun(t, "systemctl --failed --no-legend --plain | cut -d' ' -f1");
    say(`warning: system degraded, failed units: ${failed.stdout.trim().split("\n").join(", ")}`);
  } else if (state !== "running") {
    throw new Error(`systemctl is-system-running: "${state || r.stderr.trim()}"`);
  }
  return state;
}

/**
 * Sockets listening beyond loopback and the container's own veth address: on every address, say,
 * which would follow any interface added to the namespace later.
 */
export async function exposedListeners(t: SshTarget, ownAddress: string): Promise<string[]> {
  const r = await sshRun(t, "ss -Hltunp");
  if (r.exitCode !== 0) return [];
  return r.stdout
    .split("\n")
    .filter((line) => line.includes("users:"))
    .filter((line) => {
      const host = (line.trim().split(/\s+/)[4] ?? "").replace(/:\d+$/, "");
      return host !== ownAddress && !/^(127\.\d+\.\d+\.\d+|\[::1\]|\[::ffff:127\.[\d.]+\])$/.test(host);
    });
}
