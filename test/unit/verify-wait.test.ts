import { describe, expect, it } from "vitest";
import type { HostExpectation, VerifyManifest } from "../../verify/manifest";
import type { CheckResult, HostResult } from "../../verify/types";
import { verifyWithWait } from "../../verify/wait";

const host = (name: string): HostExpectation => ({
  name,
  ssh: { address: "10.0.0.1", port: 22, user: "root", hostKey: "ssh-ed25519 AAAA" },
  packages: [],
  btrfsVolumes: [],
});
const manifest = (...names: string[]): VerifyManifest => ({ version: 1, project: "sparks-infra", stack: "dev", hosts: names.map(host) });
const check = (name: string, passes: boolean): CheckResult => (passes ? { name, status: "pass" } : { name, status: "fail", expected: "up", found: "down" });

/** A clock that only sleeping moves, and hosts whose checks pass from a given run on. */
function scripted(passFromRun: Record<string, Record<string, number>>) {
  let clock = 0;
  const runs: Record<string, number> = {};
  const verify = async (h: HostExpectation): Promise<HostResult> => {
    const run = (runs[h.name] = (runs[h.name] ?? 0) + 1);
    const checks = Object.entries(passFromRun[h.name] ?? {}).map(([name, from]) => check(name, run >= from));
    return { name: h.name, target: "root@10.0.0.1:22", checks };
  };
  const wait = { now: () => clock, sleep: async (ms: number) => void (clock += ms), verify };
  return { wait, runs, elapsed: () => clock };
}

describe("verify --wait", () => {
  it("checks a host again until it passes, and each check says on which attempt it passed", async () => {
    const { wait, runs } = scripted({ "spark-1": { "system running": 1, "redis main: active": 3 } });
    const result = await verifyWithWait(manifest("spark-1"), {}, { ...wait, waitMs: 60_000, intervalMs: 5_000 });
    expect(runs["spark-1"]).toBe(3);
    expect(result.hosts[0]?.checks).toEqual([
      { name: "system running", status: "pass", attempts: 1 },
      { name: "redis main: active", status: "pass", attempts: 3 },
    ]);
    expect(result.summary).toMatchObject({ passed: 2, failed: 0 });
  });

  it("stops when the time is up, a failing check reporting every attempt", async () => {
    const { wait, runs, elapsed } = scripted({ "spark-1": { "redis main: active": 99 } });
    const result = await verifyWithWait(manifest("spark-1"), {}, { ...wait, waitMs: 20_000, intervalMs: 5_000 });
    expect(runs["spark-1"]).toBe(4);
    expect(elapsed()).toBe(15_000);
    expect(result.hosts[0]?.checks).toEqual([{ ...check("redis main: active", false), attempts: 4 }]);
    expect(result.summary.failed).toBe(1);
  });

  it("runs once, with no attempts noted, when everything passes at once; other hosts wait on their own", async () => {
    const { wait, runs } = scripted({ "spark-1": { "system running": 1 }, "spark-2": { "system running": 2 } });
    const result = await verifyWithWait(manifest("spark-1", "spark-2"), {}, { ...wait, waitMs: 60_000 });
    expect(runs).toEqual({ "spark-1": 1, "spark-2": 2 });
    expect(result.hosts[0]?.checks[0]?.attempts).toBeUndefined();
    expect(result.hosts[1]?.checks[0]?.attempts).toBe(2);
  });

  it("does not ask again a host that showed a wrong host key", async () => {
    const { wait, runs } = scripted({ "spark-1": { "ssh host key": 99 } });
    const result = await verifyWithWait(manifest("spark-1"), {}, { ...wait, waitMs: 60_000 });
    expect(runs["spark-1"]).toBe(1);
    expect(result.summary.failed).toBe(1);
  });
});
