import fs from "node:fs";
import { fingerprint, hostKeyBlob } from "../lib/host-key";
import { readConnection, type SandboxConnection } from "./connection";
import { containerPids, nspawnPids } from "./container";
import { formatBytes } from "./disk";
import { networkSummary } from "./network-plan";
import { statePaths } from "./paths";
import { cachePath } from "./rootfs";
import { sshRun } from "./ssh";
import { findLeftovers, isEmpty } from "./teardown";

export interface StatusOptions {
  /** State directory; default $SPARKS_SANDBOX_DIR, else <project>/.sandbox. */
  stateDir?: string;
}

export interface SandboxStatus {
  /** nspawn is alive, connection.json is written and ssh answers. */
  running: boolean;
  /** stopped: nothing up; booting: nspawn alive without connection.json; unreachable: up but ssh fails; stale: state left by a dead sandbox. */
  state: "running" | "stopped" | "booting" | "unreachable" | "stale";
  stateDir: string;
  pid: number | null;
  /** Container processes still running after their nspawn died. */
  orphanedPids: number[];
  connection: SandboxConnection | null;
  connectionFile: string;
  hostKeyFingerprint: string | null;
  sshAnswers: boolean | null;
  cache: { path: string; present: boolean };
}

export async function sandboxStatus(opts: StatusOptions = {}): Promise<SandboxStatus> {
  const p = statePaths(opts.stateDir);
  const connection = readConnection(p.connection) ?? null;
  const alive = nspawnPids(p);
  // A container whose nspawn was killed keeps running (and keeps its port); only a root caller can see it.
  const orphanedPids = alive.length === 0 ? containerPids(p) : [];
  const pid = connection && alive.includes(connection.nspawnPid) ? connection.nspawnPid : (alive[0] ?? null);
  let sshAnswers: boolean | null = null;
  let state: SandboxStatus["state"];
  if (pid !== null && connection) {
    const probe = await sshRun({ ...connection, knownHosts: p.knownHosts }, "true", 10_000);
    sshAnswers = probe.exitCode === 0;
    state = sshAnswers ? "running" : "unreachable";
  } else if (pid !== null) {
    state = "booting";
  } else {
    state = orphanedPids.length > 0 || !isEmpty(await findLeftovers(p)) ? "stale" : "stopped";
  }
  return {
    running: state === "running",
    state,
    stateDir: p.dir,
    pid,
    orphanedPids,
    connection,
    connectionFile: p.connection,
    hostKeyFingerprint: connection ? hostKeyFingerprint(connection.hostKey) : null,
    sshAnswers,
    cache: { path: cachePath(), present: fs.existsSync(cachePath()) },
  };
}

export function statusText(s: SandboxStatus): string {
  const c = s.connection;
  const vdb = c?.disks["/dev/vdb"];
  const lines = [`sandbox: ${s.state}`];
  if (s.pid !== null) lines.push(`  nspawn pid: ${s.pid}`);
  if (s.orphanedPids.length > 0) lines.push(`  orphaned:   ${s.orphanedPids.length} container process(es) running without nspawn`);
  if (c) {
    lines.push(`  ssh:        ${c.user}@${c.address}:${c.port}${s.sshAnswers === false ? " (not answering)" : ""}`);
    if (c.network) lines.push(`  network:    ${networkSummary(c.network)}`);
    lines.push(`  host key:   ${s.hostKeyFingerprint} (ED25519)`);
    if (vdb) lines.push(`  disk:       /dev/vdb = ${vdb.loopDevice}, ${formatBytes(vdb.sizeBytes)} at ${vdb.image}`);
    lines.push(`  started:    ${c.startedAt}`);
  }
  lines.push(`  state dir:  ${s.stateDir}`);
  lines.push(`  cache:      ${s.cache.path} (${s.cache.present ? "present" : "absent"})`);
  if (s.state === "stale") lines.push("  (run `npm run sandbox -- down` or `up` to clean up)");
  return lines.join("\n");
}

/** Status reports on whatever the state directory holds, a damaged connection.json included. */
function hostKeyFingerprint(hostKey: string): string {
  try {
    return fingerprint(hostKeyBlob(hostKey));
  } catch {
    return "unreadable host key in connection.json";
  }
}
