import fs from "node:fs";
import { fingerprint, hostKeyBlob } from "../lib/host-key";
import { bootContainer, sayLogTail } from "./boot";
import { readConnection, type SandboxConnection } from "./connection";
import { removeNspawnRuntimeFiles, stopContainer } from "./container";
import { attachDisk } from "./disk";
import { withLock } from "./lock";
import { say, SandboxError, seconds } from "./log";
import { mountOverlay, overlayAt } from "./mounts";
import { setUpNetwork } from "./network";
import { networkSummary } from "./network-plan";
import { statePaths } from "./paths";
import { requireRootOnLinux, requireTools } from "./preflight";
import { cachePath } from "./rootfs";

export interface RebootOptions {
  /** State directory; default $SPARKS_SANDBOX_DIR, else <project>/.sandbox. */
  stateDir?: string;
  /** How long the guest's systemd may take to shut down before nspawn is killed (default 90 s). */
  stopTimeoutMs?: number;
}

export interface RebootResult {
  connection: SandboxConnection;
  connectionFile: string;
  hostKeyFingerprint: string;
  previousPid: number;
  /** nspawn had to be killed: the guest did not shut down cleanly within stopTimeoutMs. */
  forcedStop: boolean;
  stopSeconds: number;
  seconds: number;
}

/**
 * Shuts the container down as `down` does (SIGTERM to nspawn: the guest's systemd stops its units)
 * and boots the same root again: the overlay's upper dir, the /dev/vdb image and its loop device,
 * the host and login keys, and the network (namespace, addresses, firewall, apt proxy), which stays
 * up meanwhile. Everything it uses is what `up` created, so `down` removes it as before.
 */
export async function sandboxReboot(opts: RebootOptions = {}): Promise<RebootResult> {
  requireRootOnLinux();
  await requireTools();
  const p = statePaths(opts.stateDir);
  const started = Date.now();
  const notUp = () => new SandboxError(`no sandbox is up in ${p.dir}: nothing to reboot (run up)`, 3);
  if (!fs.existsSync(p.dir)) throw notUp();
  return withLock(p.lock, async () => {
    const before = readConnection(p.connection);
    if (!before || !fs.existsSync(p.upper) || !fs.existsSync(p.disk)) throw notUp();
    if (!before.network) throw new SandboxError(`the sandbox in ${p.dir} predates its own network namespace: run down and up`, 3);
    const stopped = await stopContainer(p, opts.stopTimeoutMs ?? 90_000, say);
    if (stopped.nspawn.length === 0) say("the container was not running; booting it again");
    if (stopped.forced) say("warning: the guest did not shut down in time and was killed: not a clean reboot");
    if (stopped.strays.length > 0) say(`killed ${stopped.strays.length} orphaned container process(es)`);
    // nspawn removes these itself on a clean exit; after a kill they would name a machine that is gone.
    removeNspawnRuntimeFiles(p);
    const stopSeconds = (Date.now() - started) / 1000;
    say(`container stopped in ${seconds(started)}`);

    try {
      if (!overlayAt(p.root)) {
        const lower = cachePath();
        if (!fs.existsSync(lower)) throw new Error(`the cached root ${lower} is gone; run down and up`);
        await mountOverlay(lower, p.upper, p.work, p.root);
        say(`remounted the root overlay at ${p.root}`);
      }
      const loopDevice = await attachDisk(p.disk);
      // Kept while the container was down; this only brings back what did not survive (a killed proxy).
      await setUpNetwork(p, before.network);
      const sizeBytes = fs.statSync(p.disk).size;
      const connection = await bootContainer(p, { ...before, loopDevice, sizeBytes }, started, { appendLog: true });
      return {
        connection,
        connectionFile: p.connection,
        hostKeyFingerprint: fingerprint(hostKeyBlob(connection.hostKey)),
        previousPid: before.nspawnPid,
        forcedStop: stopped.forced,
        stopSeconds,
        seconds: (Date.now() - started) / 1000,
      };
    } catch (e) {
      sayLogTail(p);
      // Left as it is for a look; down removes it all the same.
      throw new SandboxError(`reboot failed: ${(e as Error).message} (run down to clean up)`);
    }
  });
}

export function rebootSummary(r: RebootResult): string {
  const c = r.connection;
  return [
    `sandbox: rebooted in ${r.seconds.toFixed(1)}s (shutdown ${r.stopSeconds.toFixed(1)}s${r.forcedStop ? ", forced" : ""})`,
    `  ssh:        ${c.user}@${c.address}:${c.port}`,
    `  network:    ${networkSummary(c.network)}`,
    `  host key:   ${r.hostKeyFingerprint} (ED25519)`,
    `  nspawn pid: ${c.nspawnPid} (was ${r.previousPid})`,
    `  connection: ${r.connectionFile}`,
  ].join("\n");
}
