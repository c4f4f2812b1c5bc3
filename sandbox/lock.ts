import fs from "node:fs";
import { pidAlive } from "./container";
import { SandboxError } from "./log";

/** One up/down at a time per state dir; a lock left by a dead process is taken over. */
export async function withLock<T>(lockFile: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      fs.writeFileSync(lockFile, `${process.pid}\n`, { flag: "wx" });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 2) throw e;
      const holder = Number(fs.readFileSync(lockFile, "utf8").trim());
      if (holder && holder !== process.pid && pidAlive(holder)) {
        throw new SandboxError(`another sandbox command (pid ${holder}) is working on ${lockFile.replace(/\/[^/]*$/, "")}`);
      }
      fs.rmSync(lockFile, { force: true });
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}
