import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import type { Readable } from "node:stream";
import { debianMirror } from "./apt-mirror";
import { pidAlive } from "./container";
import { say, seconds } from "./log";
import { overlaysUsing, unmountUnder } from "./mounts";
import { CACHE_ROOT } from "./paths";
import { sh } from "./sh";

export const SUITE = "bookworm";

/** btrfs-progs is left out on purpose: installing it is part of what the deploy proves. */
export const INCLUDE = [
  "systemd",
  "systemd-sysv",
  "dbus",
  "openssh-server",
  "iproute2",
  "ca-certificates",
  "apt-utils",
  "procps",
  "python3",
];

export function cacheKey(): string {
  return createHash("sha256").update(`${SUITE}\n${INCLUDE.join(",")}`).digest("hex").slice(0, 12);
}

export function cachePath(): string {
  return path.join(CACHE_ROOT, `rootfs-${cacheKey()}`);
}

/** debootstrap mounts /proc and /sys inside its target; an interrupted run can leave them behind. */
async function removeTree(dir: string): Promise<void> {
  await unmountUnder(dir);
  await sh`rm -rf --one-file-system ${dir}`;
}

async function removeAbandonedBuilds(): Promise<void> {
  if (!fs.existsSync(CACHE_ROOT)) return;
  for (const name of fs.readdirSync(CACHE_ROOT)) {
    const m = /^\.rootfs-.*\.(?:tmp|old)-(\d+)$/.exec(name);
    if (!m || pidAlive(Number(m[1]))) continue;
    say(`removing abandoned build ${name}`);
    await removeTree(path.join(CACHE_ROOT, name));
  }
}

function streamLines(stream: Readable, onLine: (line: string) => void): void {
  readline.createInterface({ input: stream }).on("line", onLine);
}

async function debootstrap(target: string, mirror: string): Promise<void> {
  const started = Date.now();
  const proc = sh`debootstrap --variant=minbase ${`--include=${INCLUDE.join(",")}`} ${SUITE} ${target} ${mirror}`.nothrow();
  const show = (line: string) => {
    if (line.trim()) say(`[${seconds(started).padStart(6)}] ${line}`);
  };
  streamLines(proc.stdout, show);
  streamLines(proc.stderr, show);
  const out = await proc;
  if (out.exitCode !== 0) {
    const logFile = path.join(target, "debootstrap", "debootstrap.log");
    if (fs.existsSync(logFile)) {
      const tail = fs.readFileSync(logFile, "utf8").trimEnd().split("\n").slice(-15);
      for (const line of tail) say(`debootstrap.log: ${line}`);
    }
    throw new Error(`debootstrap failed (exit ${out.exitCode})`);
  }
}

/**
 * Returns the cached root, building it first when absent (or when `rebuild`). The build goes to a
 * pid-named temp dir and is renamed into place, so the cache path only ever holds a complete root.
 */
export async function ensureRootfs(opts: { rebuild?: boolean } = {}): Promise<string> {
  const cache = cachePath();
  await removeAbandonedBuilds();
  if (fs.existsSync(cache) && !opts.rebuild) return cache;
  if (opts.rebuild) {
    const users = overlaysUsing(cache);
    if (users.length > 0) {
      throw new Error(`--rebuild: ${cache} is the lower layer of ${users.map((m) => m.mountPoint).join(", ")}; run down there first`);
    }
  }

  fs.mkdirSync(CACHE_ROOT, { recursive: true });
  const mirror = debianMirror(SUITE);
  const tmp = path.join(CACHE_ROOT, `.rootfs-${cacheKey()}.tmp-${process.pid}`);
  const started = Date.now();
  say(`building ${SUITE} root from ${mirror} into ${cache} (one-time, a few minutes)`);
  try {
    await debootstrap(tmp, mirror);
    await unmountUnder(tmp);
    if (!fs.existsSync(cache)) {
      fs.renameSync(tmp, cache);
    } else if (opts.rebuild) {
      const old = path.join(CACHE_ROOT, `.rootfs-${cacheKey()}.old-${process.pid}`);
      fs.renameSync(cache, old);
      fs.renameSync(tmp, cache);
      await removeTree(old);
    } else {
      // Another up finished the same build first and may already be using it as a lower layer.
      await removeTree(tmp);
    }
  } catch (e) {
    await removeTree(tmp).catch(() => undefined);
    throw e;
  }
  say(`root cached at ${cache} in ${seconds(started)}`);
  return cache;
}
