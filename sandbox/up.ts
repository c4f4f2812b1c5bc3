import fs from "node:fs";
import path from "node:path";
import { fingerprint, hostKeyBlob } from "../lib/host-key";
import { debianMirror } from "./apt-mirror";
import { bootContainer, sayLogTail, sshTarget } from "./boot";
import type { SandboxConnection } from "./connection";
import { attachBlankDisk, formatBytes, parseDiskSize } from "./disk";
import { configureGuest, SSH_PORT } from "./guest-config";
import { withLock } from "./lock";
import { say, SandboxError } from "./log";
import { mountOverlay } from "./mounts";
import { claimNetwork, setUpNetwork } from "./network";
import { networkSummary } from "./network-plan";
import { statePaths, type StatePaths } from "./paths";
import { requireRootOnLinux, requireTools } from "./preflight";
import { ensureRootfs, SUITE } from "./rootfs";
import { sshRun } from "./ssh";
import { authorizeClientKey, newClientKey, newHostKey, writeKnownHosts } from "./ssh-keys";
import { findLeftovers, isEmpty, teardown } from "./teardown";

export interface UpOptions {
  /** State directory; default $SPARKS_SANDBOX_DIR, else <project>/.sandbox. */
  stateDir?: string;
  /** Size of the blank /dev/vdb image, truncate-style (default "16G"). */
  diskSize?: string;
  /** Rebuild the cached root even when present (default false). */
  rebuild?: boolean;
}

export interface UpResult {
  alreadyUp: boolean;
  connection: SandboxConnection;
  connectionFile: string;
  hostKeyFingerprint: string;
  seconds: number;
}

const USER = "root";

async function reuseIfUp(p: StatePaths, started: number): Promise<UpResult | undefined> {
  const left = await findLeftovers(p);
  const c = left.connection;
  // A connection.json without a network is from before the sandbox had its own namespace: rebuilt.
  if (c?.network && left.nspawn.includes(c.nspawnPid) && (await sshRun(sshTarget(p, c), "true", 15_000)).exitCode === 0) {
    // The proxy is the one part that can die alone; bringing it back leaves the rest as it is.
    await setUpNetwork(p, c.network);
    return { alreadyUp: true, connection: c, connectionFile: p.connection, hostKeyFingerprint: fingerprint(hostKeyBlob(c.hostKey)), seconds: (Date.now() - started) / 1000 };
  }
  if (!isEmpty(left)) {
    const what = [
      left.nspawn.length ? `nspawn ${left.nspawn.join(",")}` : "",
      left.orphans.length ? `${left.orphans.length} orphaned process(es)` : "",
      left.mounts.length ? `${left.mounts.length} mount(s)` : "",
      left.loops.length ? left.loops.join(",") : "",
      ...left.network,
    ].filter(Boolean);
    say(`cleaning up a previous sandbox that is no longer healthy${what.length ? ` (${what.join(", ")})` : ""}`);
    await teardown(p, say);
  }
  return undefined;
}

async function boot(p: StatePaths, lower: string, sizeBytes: number, started: number): Promise<UpResult> {
  fs.mkdirSync(p.dir, { recursive: true });
  await mountOverlay(lower, p.upper, p.work, p.root);
  const network = await claimNetwork(p);
  await setUpNetwork(p, network);
  say(`network: ${networkSummary(network)}`);
  const address = network.containerAddress;
  const port = SSH_PORT;
  configureGuest(p.root, network, { mirror: debianMirror(SUITE), suite: SUITE });
  const clientKey = await newClientKey(p.key);
  authorizeClientKey(p.root, clientKey);
  const hostKey = await newHostKey(p.root);
  writeKnownHosts(p.knownHosts, address, port, hostKey);
  const loopDevice = await attachBlankDisk(p.disk, sizeBytes);
  const connection = await bootContainer(p, { address, port, network, user: USER, hostKey, loopDevice, sizeBytes }, started);
  return { alreadyUp: false, connection, connectionFile: p.connection, hostKeyFingerprint: fingerprint(hostKeyBlob(hostKey)), seconds: (Date.now() - started) / 1000 };
}

export async function sandboxUp(opts: UpOptions = {}): Promise<UpResult> {
  requireRootOnLinux();
  await requireTools();
  let sizeBytes: number;
  try {
    sizeBytes = parseDiskSize(opts.diskSize ?? "16G");
  } catch (e) {
    throw new SandboxError((e as Error).message, 2);
  }
  const p = statePaths(opts.stateDir);
  const started = Date.now();
  fs.mkdirSync(p.dir, { recursive: true });
  return withLock(p.lock, async () => {
    const existing = await reuseIfUp(p, started);
    if (existing) {
      say(`already up at ${existing.connection.address}:${existing.connection.port} (nspawn pid ${existing.connection.nspawnPid})${opts.rebuild ? "; --rebuild ignored, run down first" : ""}`);
      return existing;
    }
    const lower = await ensureRootfs({ rebuild: opts.rebuild });
    try {
      return await boot(p, lower, sizeBytes, started);
    } catch (e) {
      sayLogTail(p);
      say(`up failed: ${(e as Error).message}; removing what was set up`);
      await teardown(p, say).catch((te: Error) => say(`cleanup also failed: ${te.message}`));
      throw e instanceof SandboxError ? e : new SandboxError((e as Error).message);
    }
  });
}

export function upSummary(r: UpResult): string {
  const c = r.connection;
  const vdb = c.disks["/dev/vdb"];
  return [
    `sandbox: ${r.alreadyUp ? "already up" : `up in ${r.seconds.toFixed(1)}s`}`,
    `  ssh:        ssh -o UserKnownHostsFile=${path.join(path.dirname(c.privateKeyPath), "known_hosts")} -i ${c.privateKeyPath} -p ${c.port} ${c.user}@${c.address}`,
    `  network:    ${networkSummary(c.network)}`,
    `  host key:   ${r.hostKeyFingerprint} (ED25519)`,
    vdb ? `  disk:       /dev/vdb = ${vdb.loopDevice}, ${formatBytes(vdb.sizeBytes)} sparse at ${vdb.image}` : "",
    `  nspawn pid: ${c.nspawnPid}`,
    `  connection: ${r.connectionFile}`,
  ]
    .filter(Boolean)
    .join("\n");
}
