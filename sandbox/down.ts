import fs from "node:fs";
import { withLock } from "./lock";
import { say, seconds } from "./log";
import { statePaths } from "./paths";
import { requireRootOnLinux } from "./preflight";
import { findLeftovers, isEmpty, teardown } from "./teardown";

export interface DownOptions {
  /** State directory; default $SPARKS_SANDBOX_DIR, else <project>/.sandbox. */
  stateDir?: string;
}

export interface DownResult {
  wasRunning: boolean;
  seconds: number;
}

/** Idempotent: with nothing up it only says so. The rootfs cache is left alone. */
export async function sandboxDown(opts: DownOptions = {}): Promise<DownResult> {
  requireRootOnLinux();
  const p = statePaths(opts.stateDir);
  const started = Date.now();
  if (!fs.existsSync(p.dir)) {
    say("not running");
    return { wasRunning: false, seconds: 0 };
  }
  return withLock(p.lock, async () => {
    const left = await findLeftovers(p);
    if (isEmpty(left)) {
      say("not running");
      return { wasRunning: false, seconds: 0 };
    }
    const wasRunning = left.nspawn.length > 0 || left.orphans.length > 0;
    await teardown(p, say);
    say(`down in ${seconds(started)}${wasRunning ? "" : " (was not running; removed leftovers)"}`);
    return { wasRunning, seconds: (Date.now() - started) / 1000 };
  });
}
