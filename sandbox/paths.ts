import path from "node:path";
import { projectRoot } from "../lib/project-root";
import { aptProxyPaths } from "./apt-proxy";

export const CACHE_ROOT = "/var/cache/sparks-sandbox";

export interface StatePaths {
  dir: string;
  root: string;
  upper: string;
  work: string;
  disk: string;
  key: string;
  keyPub: string;
  knownHosts: string;
  pidFile: string;
  log: string;
  connection: string;
  lock: string;
  /** nspawn's lock on the root directory, created next to it. */
  imageLock: string;
}

export function resolveStateDir(stateDir?: string): string {
  const chosen = stateDir ?? process.env.SPARKS_SANDBOX_DIR ?? path.join(projectRoot(), ".sandbox");
  return path.resolve(chosen);
}

export function statePaths(stateDir?: string): StatePaths {
  const dir = resolveStateDir(stateDir);
  const at = (name: string) => path.join(dir, name);
  return {
    dir,
    root: at("root"),
    upper: at("upper"),
    work: at("work"),
    disk: at("disk-vdb.img"),
    key: at("id_ed25519"),
    keyPub: at("id_ed25519.pub"),
    knownHosts: at("known_hosts"),
    pidFile: at("nspawn.pid"),
    log: at("nspawn.log"),
    connection: at("connection.json"),
    lock: at(".lock"),
    imageLock: at(".#root.lck"),
  };
}

/** Paths `down` deletes; the directories are per-up overlay layers and the apt proxy's cache and logs. */
export function perUpFiles(p: StatePaths): { files: string[]; dirs: string[] } {
  return {
    files: [p.disk, p.key, p.keyPub, p.knownHosts, p.pidFile, p.log, p.connection, p.imageLock],
    dirs: [p.upper, p.work, p.root, aptProxyPaths(p.dir).dir],
  };
}
