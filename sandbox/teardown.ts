import fs from "node:fs";
import { readConnection, type SandboxConnection } from "./connection";
import { containerPids, nspawnPids, removeNspawnRuntimeFiles, stopContainer } from "./container";
import { detachLoopsUnder, loopDevicesUnder } from "./disk";
import { mountsUnder, unmountUnder } from "./mounts";
import { networkLeftovers, tearDownNetwork } from "./network";
import { perUpFiles, type StatePaths } from "./paths";
import { sh } from "./sh";

export interface Leftovers {
  connection?: SandboxConnection;
  nspawn: number[];
  /** Container processes whose nspawn died. */
  orphans: number[];
  mounts: string[];
  loops: string[];
  /** The namespace, veth, nft table and apt proxy, each named. */
  network: string[];
  files: string[];
}

export async function findLeftovers(p: StatePaths): Promise<Leftovers> {
  const { files, dirs } = perUpFiles(p);
  const nspawn = nspawnPids(p);
  return {
    connection: readConnection(p.connection),
    nspawn,
    orphans: nspawn.length === 0 ? containerPids(p) : [],
    mounts: mountsUnder(p.dir).map((m) => m.mountPoint),
    loops: await loopDevicesUnder(p.dir),
    network: await networkLeftovers(p),
    files: [...files, ...dirs].filter((f) => fs.existsSync(f)),
  };
}

export function isEmpty(l: Leftovers): boolean {
  return l.nspawn.length === 0 && l.orphans.length === 0 && l.mounts.length === 0 && l.loops.length === 0 && l.network.length === 0 && l.files.length === 0;
}

/**
 * Everything one `up` created, in dependency order: the container holds the overlay, the loop
 * device and the network namespace, the overlay must be gone before its upper dir is deleted.
 */
export async function teardown(p: StatePaths, report: (msg: string) => void): Promise<void> {
  const stopped = await stopContainer(p, 30_000, report);
  if (stopped.forced) report(`nspawn did not stop within 30s: killed`);
  if (stopped.strays.length > 0) report(`killed ${stopped.strays.length} orphaned container process(es)`);
  removeNspawnRuntimeFiles(p);
  await tearDownNetwork(p, report);

  const unmounted = await unmountUnder(p.dir);
  if (unmounted.length > 0) report(`unmounted ${unmounted.join(", ")}`);

  const detached = await detachLoopsUnder(p.dir);
  if (detached.length > 0) report(`detached ${detached.join(", ")}`);

  const { files, dirs } = perUpFiles(p);
  for (const file of files) fs.rmSync(file, { force: true });
  for (const dir of dirs) {
    if (fs.existsSync(dir)) await sh`rm -rf --one-file-system ${dir}`;
  }
}
