import fs from "node:fs";
import { writeConnection, type SandboxConnection } from "./connection";
import { startContainer } from "./container";
import { say, seconds } from "./log";
import type { SandboxNetwork } from "./network-plan";
import type { StatePaths } from "./paths";
import { exposedListeners, waitForSsh, waitForSystem, type SshTarget } from "./ssh";

export function sshTarget(p: StatePaths, c: Pick<SandboxConnection, "address" | "port" | "user">): SshTarget {
  return { address: c.address, port: c.port, user: c.user, privateKeyPath: p.key, knownHosts: p.knownHosts };
}

/** What a boot needs beyond the state dir: the root is mounted and configured, the disk attached, the network set up. */
export interface BootSpec {
  address: string;
  port: number;
  network: SandboxNetwork;
  user: string;
  hostKey: string;
  loopDevice: string;
  sizeBytes: number;
}

/**
 * Starts nspawn on the prepared root, waits for ssh and systemd, and writes connection.json.
 * Shared by up (a fresh root) and reboot (the same root booted again).
 */
export async function bootContainer(p: StatePaths, s: BootSpec, started: number, opts: { appendLog?: boolean } = {}): Promise<SandboxConnection> {
  const nspawnPid = startContainer(p, s.loopDevice, s.network.namespace, opts);
  say(`booting container (nspawn pid ${nspawnPid}, sshd on ${s.address}:${s.port}, /dev/vdb = ${s.loopDevice})`);

  const target = sshTarget(p, s);
  await waitForSsh(target, nspawnPid);
  say(`ssh answers after ${seconds(started)}; waiting for systemd`);
  await waitForSystem(target);
  for (const line of await exposedListeners(target, s.network.containerAddress)) say(`warning: container listens beyond loopback and ${s.network.containerAddress}: ${line.trim()}`);

  const connection: SandboxConnection = {
    address: s.address,
    port: s.port,
    user: s.user,
    hostKey: s.hostKey,
    privateKeyPath: p.key,
    disks: { "/dev/vdb": { loopDevice: s.loopDevice, image: p.disk, sizeBytes: s.sizeBytes } },
    nspawnPid,
    startedAt: new Date().toISOString(),
    network: s.network,
  };
  writeConnection(p.connection, connection);
  return connection;
}

/** The end of nspawn.log, shown when a boot fails. */
export function sayLogTail(p: StatePaths, lines = 20): void {
  let tail: string[] = [];
  try {
    tail = fs.readFileSync(p.log, "utf8").trimEnd().split("\n").slice(-lines);
  } catch {
    return;
  }
  if (tail.length === 0) return;
  say("last lines of nspawn.log:");
  for (const line of tail) say(`  ${line}`);
}
