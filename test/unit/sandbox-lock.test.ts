import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { withLock } from "../../sandbox/lock";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sandbox-lock-"));
const lockFile = path.join(dir, "lock");
const holders: ReturnType<typeof spawn>[] = [];

/** A live process other than us, written into the lock as its holder, gone after `seconds`. */
function heldFor(seconds: number): number {
  const holder = spawn("sleep", [String(seconds)], { stdio: "ignore" });
  holders.push(holder);
  fs.writeFileSync(lockFile, `${holder.pid}\n`);
  return holder.pid!;
}

afterEach(() => {
  for (const holder of holders.splice(0)) holder.kill();
  fs.rmSync(lockFile, { force: true });
});

describe("the sandbox's locks", () => {
  it("refuse a live holder at once, naming it and the lock", async () => {
    const pid = heldFor(5);
    await expect(withLock(lockFile, async () => "ran")).rejects.toThrow(`another sandbox command (pid ${pid}) holds ${lockFile}`);
    expect(fs.readFileSync(lockFile, "utf8")).toBe(`${pid}\n`);
  });

  it("wait for a live holder when asked to, and run once it is gone", async () => {
    heldFor(0.5);
    await expect(withLock(lockFile, async () => "ran", { waitMs: 10_000 })).resolves.toBe("ran");
    expect(fs.existsSync(lockFile)).toBe(false);
  });

  it("take over a lock whose holder is dead", async () => {
    fs.writeFileSync(lockFile, "999999999\n");
    await expect(withLock(lockFile, async () => fs.readFileSync(lockFile, "utf8"))).resolves.toBe(`${process.pid}\n`);
  });
});
