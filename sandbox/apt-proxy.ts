import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { sh } from "./sh";
import { APT_PROXY_PORT } from "./network-plan";

export const APT_PROXY_USER = "apt-cacher-ng";

export interface AptProxyPaths {
  dir: string;
  conf: string;
  cache: string;
  log: string;
}

export function aptProxyPaths(stateDir: string): AptProxyPaths {
  const dir = path.join(stateDir, "apt-proxy");
  return { dir, conf: path.join(dir, "conf"), cache: path.join(dir, "cache"), log: path.join(dir, "log") };
}

/** "http://deb.debian.org/debian" -> "deb.debian.org/debian": what apt-cacher-ng matches a request's URL against. */
export function mirrorPrefix(mirror: string): string {
  const url = new URL(mirror);
  return `${url.host}${url.pathname}`.replace(/\/+$/, "");
}

/**
 * A config of its own, never the system's /etc/apt-cacher-ng: it listens on the machine's veth
 * address only and serves nothing but the machine's own mirrors. ForceManaged refuses any URL that
 * no Remap names, and a PassThroughPattern that matches nothing refuses every CONNECT (the default
 * lets some through), so the container cannot use it as a way out.
 */
export function aptProxyConfig(p: AptProxyPaths, listen: string, mirrors: string[]): string {
  return [
    "# Written by sparks sandbox up for this sandbox alone.",
    `CacheDir: ${p.cache}`,
    `LogDir: ${p.log}`,
    "SupportDir: /usr/lib/apt-cacher-ng",
    `SocketPath: ${path.join(p.log, "socket")}`,
    `BindAddress: ${listen}`,
    `Port: ${APT_PROXY_PORT}`,
    "ForeGround: 1",
    "ForceManaged: 1",
    "PassThroughPattern: ^$",
    ...mirrors.map((mirror, i) => `Remap-mirror${i}: ${mirrorPrefix(mirror)} ; ${mirror.replace(/\/*$/, "/")}`),
    "",
  ].join("\n");
}

/** The container's apt, pointed at the proxy; its sources stay http so the proxy sees each URL. */
export function guestAptProxyConf(proxyAddress: string): string {
  return `Acquire::http::Proxy "http://${proxyAddress}:${APT_PROXY_PORT}";\n`;
}

/** By command line (our own config dir), so a system apt-cacher-ng or another sandbox's is never signalled. */
export function aptProxyPids(p: AptProxyPaths): number[] {
  return fs
    .readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map(Number)
    .filter((pid) => {
      try {
        const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        return /(^|\/)apt-cacher-ng$/.test(argv[0] ?? "") && argv.includes(p.conf);
      } catch {
        return false;
      }
    });
}

async function userIds(user: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([sh`id -u ${user}`.nothrow(), sh`id -g ${user}`.nothrow()]);
  if (uid.exitCode !== 0 || gid.exitCode !== 0) throw new Error(`no user ${user} (apt-get install apt-cacher-ng)`);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Started as its own unprivileged user, detached like nspawn; already running is left as it is. */
export async function startAptProxy(p: AptProxyPaths, listen: string, mirrors: string[]): Promise<number> {
  const running = aptProxyPids(p);
  if (running.length > 0) return running[0]!;
  const { uid, gid } = await userIds(APT_PROXY_USER);
  for (const dir of [p.conf, p.cache, p.log]) fs.mkdirSync(dir, { recursive: true });
  for (const dir of [p.cache, p.log]) {
    fs.chownSync(dir, uid, gid);
    if (spawnSync("test", ["-w", dir], { uid, gid }).status !== 0) {
      throw new Error(`${APT_PROXY_USER} cannot write ${dir}: a directory above the state dir is closed to other users (use a --state-dir it can reach)`);
    }
  }
  fs.writeFileSync(path.join(p.conf, "acng.conf"), aptProxyConfig(p, listen, mirrors));
  const out = fs.openSync(path.join(p.dir, "apt-cacher-ng.out"), "a");
  try {
    const child = spawn("apt-cacher-ng", ["-c", p.conf], { detached: true, stdio: ["ignore", out, out], uid, gid, cwd: p.dir });
    child.on("error", () => undefined);
    child.unref();
    if (!child.pid) throw new Error("apt-cacher-ng did not start (apt-get install apt-cacher-ng)");
    return child.pid;
  } finally {
    fs.closeSync(out);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Until it accepts on its address, or a clear error with what it printed. */
export async function waitForAptProxy(p: AptProxyPaths, listen: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await sh`ss -Hltn ${["src", `${listen}:${APT_PROXY_PORT}`]}`.nothrow();
    if (r.stdout.trim()) return;
    if (aptProxyPids(p).length === 0) break;
    await sleep(200);
  }
  let said = "";
  try {
    said = fs.readFileSync(path.join(p.dir, "apt-cacher-ng.out"), "utf8").trim().split("\n").slice(-5).join("; ");
  } catch {
    // nothing printed
  }
  throw new Error(`apt-cacher-ng does not listen on ${listen}:${APT_PROXY_PORT}${said ? ` (it said: ${said})` : ""}`);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

export async function stopAptProxy(p: AptProxyPaths, timeoutMs = 10_000): Promise<number[]> {
  const pids = aptProxyPids(p);
  for (const pid of pids) signal(pid, "SIGTERM");
  const deadline = Date.now() + timeoutMs;
  while (aptProxyPids(p).length > 0 && Date.now() < deadline) await sleep(100);
  for (const pid of aptProxyPids(p)) signal(pid, "SIGKILL");
  return pids;
}
