import fs from "node:fs";
import { pidAlive } from "./container";
import { SandboxError } from "./log";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function holderOf(lockFile: string): number {
  try {
    return Number(fs.readFileSync(lockFile, "utf8").trim());
  } catch {
    return 0;
  }
}

/**
 * One holder at a time; a lock left by a dead process is taken over. A live holder is refused at
 * once, or waited for up to `waitMs` (for locks held only a moment).
 */
export async function withLock<T>(lockFile: string, fn: () => Promise<T>, opts: { waitMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (opts.waitMs ?? 0);
  for (let takeovers = 0; ; ) {
    try {
      fs.writeFileSync(lockFile, `${process.pid}\n`, { flag: "wx" });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const holder = holderOf(lockFile);
      if (holder && holder !== process.pid && pidAlive(holder)) {
        if (Date.now() >= deadline) throw new SandboxError(`another sandbox command (pid ${holder}) holds ${lockFile}`);
        await sleep(100);
        continue;
      }
      if (++takeovers > 3) throw e;
      fs.rmSync(lockFile, { force: true });
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}
