import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import { HOSTNAME } from "./guest-config";
import { parseMountinfo } from "./mounts";
import { netnsPath } from "./network-plan";
import type { StatePaths } from "./paths";

const BTRFS_CONTROL = "/dev/btrfs-control";

/** 8 hex digits unique per state dir: names the machine, its network namespace, veth and firewall table. */
export function sandboxId(p: StatePaths): string {
  return createHash("sha256").update(p.dir).digest("hex").slice(0, 8);
}

/** Unique per state dir: nspawn keys its lock and /run/systemd/nspawn/propagate/<name> on it. */
export function machineName(p: StatePaths): string {
  return `${HOSTNAME}-${sandboxId(p)}`;
}

export function nspawnArgs(p: StatePaths, loopDevice: string, namespace: string): string[] {
  // Without the control node, btrfs-progs inside cannot register devices (`btrfs device scan`).
  const btrfsControl = fs.existsSync(BTRFS_CONTROL) ? [`--bind=${BTRFS_CONTROL}`, `--property=DeviceAllow=${BTRFS_CONTROL} rw`] : [];
  return [
    `--directory=${p.root}`,
    "--boot",
    // No systemd runs as PID 1 on the machine: no machined to register with, no unit to create.
    "--register=no",
    "--keep-unit",
    "--capability=all",
    `--machine=${machineName(p)}`,
    `--hostname=${HOSTNAME}`,
    // The namespace up made and fenced off; nspawn's own network options cannot be combined with it.
    `--network-namespace-path=${netnsPath(namespace)}`,
    "--console=read-only",
    "--link-journal=no",
    "--resolv-conf=off",
    "--timezone=off",
    `--bind=${loopDevice}:/dev/vdb`,
    // nspawn ignores --property without registration (it says so in nspawn.log); /dev/loopN is usable
    // because we run in the root devices cgroup. Kept for hosts where nspawn can register a scope.
    `--property=DeviceAllow=${loopDevice} rwm`,
    ...btrfsControl,
  ];
}

/** A zombie counts as gone: nspawn is reparented to PID 1 once we exit, and this PID 1 may be slow to reap. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) [ZX] /s.test(stat);
  } catch {
    return false;
  }
}

function processIds(): number[] {
  return fs
    .readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

function readProc(pid: number, file: string): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, "utf8");
  } catch {
    return undefined;
  }
}

/** By command line rather than the pid file alone, so a reused pid is never signalled and a lost pid file still finds nspawn. */
export function nspawnPids(p: StatePaths): number[] {
  const wanted = `--directory=${p.root}`;
  return processIds().filter((pid) => {
    const argv = (readProc(pid, "cmdline") ?? "").split("\0");
    return /(^|\/)systemd-nspawn$/.test(argv[0] ?? "") && argv.includes(wanted);
  });
}

/** Processes whose root is our overlay: what would survive if nspawn died without taking the container along. */
export function containerPids(p: StatePaths): number[] {
  const ownPidNs = fs.readlinkSync("/proc/self/ns/pid");
  return processIds().filter((pid) => {
    try {
      if (fs.readlinkSync(`/proc/${pid}/ns/pid`) === ownPidNs) return false;
    } catch {
      return false;
    }
    const root = parseMountinfo(readProc(pid, "mountinfo") ?? "").find((m) => m.mountPoint === "/");
    return root?.fsType === "overlay" && root.superOptions.split(",").includes(`upperdir=${p.upper}`);
  });
}

/**
 * nspawn mounts /proc/sys read-only, and counts a joined namespace (--network-namespace-path) as no
 * network of the container's own: libvirt could not set up a NAT bridge (it writes
 * /proc/sys/net/ipv6/conf/<bridge>/). The namespace is the sandbox's alone, so its net sysctls may be.
 */
export const NSPAWN_ENV = { SYSTEMD_NSPAWN_API_VFS_WRITABLE: "network" } as const;

/**
 * Detached in its own session so neither our exit nor a Ctrl-C at our terminal reaches the container.
 * `appendLog` keeps the previous boot's nspawn.log (a reboot) instead of starting it afresh.
 */
export function startContainer(p: StatePaths, loopDevice: string, namespace: string, opts: { appendLog?: boolean } = {}): number {
  const log = fs.openSync(p.log, opts.appendLog ? "a" : "w");
  try {
    // zx's $ buffers output in memory and ties the child to us; a long-lived daemon needs plain spawn.
    const child = spawn("systemd-nspawn", nspawnArgs(p, loopDevice, namespace), {
      detached: true,
      stdio: ["ignore", log, log],
      env: { ...process.env, ...NSPAWN_ENV },
    });
    child.on("error", (e) => fs.appendFileSync(p.log, `spawn failed: ${e.message}\n`));
    child.unref();
    if (!child.pid) throw new Error("systemd-nspawn did not start (is systemd-container installed?)");
    fs.writeFileSync(p.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    fs.closeSync(log);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(pidAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(200);
    alive = alive.filter(pidAlive);
  }
  return alive;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export interface StopResult {
  nspawn: number[];
  forced: boolean;
  strays: number[];
}

/** SIGTERM makes nspawn shut the container down cleanly; SIGKILL the group only if it hangs. */
export async function stopContainer(p: StatePaths, timeoutMs = 30_000, onWait?: (msg: string) => void): Promise<StopResult> {
  const nspawn = nspawnPids(p);
  for (const pid of nspawn) signal(pid, "SIGTERM");
  if (nspawn.length > 0) onWait?.(`stopping container (nspawn pid ${nspawn.join(", ")}), up to ${timeoutMs / 1000}s`);
  const hung = await waitGone(nspawn, timeoutMs);
  for (const pid of hung) {
    signal(-pid, "SIGKILL");
    signal(pid, "SIGKILL");
  }
  await waitGone(hung, 5_000);

  const strays = containerPids(p);
  for (const pid of strays) signal(pid, "SIGKILL");
  const left = await waitGone(strays, 5_000);
  if (left.length > 0) throw new Error(`container processes survived SIGKILL: ${left.join(", ")}`);
  return { nspawn, forced: hung.length > 0, strays };
}

/**
 * nspawn removes these itself on a clean exit; after a SIGKILL they stay: the root's inode lock
 * and the propagation dir named after the machine (the image lock is among the per-up files).
 */
export function removeNspawnRuntimeFiles(p: StatePaths): void {
  try {
    const st = fs.statSync(p.root);
    fs.rmSync(`/run/systemd/nspawn/locks/inode-${st.dev}:${st.ino}`, { force: true });
  } catch {
    // root already gone
  }
  fs.rmSync(`/run/systemd/nspawn/propagate/${machineName(p)}`, { recursive: true, force: true });
}
