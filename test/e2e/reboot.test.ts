import { mkdirSync, rmSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxDown, sandboxReboot, sandboxUp } from "../../sandbox";
import { e2eBlocker, ROOT, runCli, sandboxShell, sandboxStackFile } from "./support";

const blocker = e2eBlocker();
if (blocker && process.env.CI) throw new Error(`e2e tests must run under CI, but cannot: ${blocker}`);
if (blocker) console.warn(`skipping the reboot e2e tests: ${blocker}`);

/** This file's own sandbox host. */
const STATE_DIR = path.join(ROOT, ".sandbox-e2e-reboot");
const RESULTS = path.join(ROOT, "test-results");
const MANIFEST = path.join(RESULTS, "verify-manifest-sandbox-reboot.json");
/** The whole sandbox stack: everything the product says comes back after a reboot. */
const STACK = sandboxStackFile("reboot", ["sparkPg", "redis", "kvm"]);
const GUEST = "spark-dev-1";

const STATE = path.join(RESULTS, "reboot.state.json");
const apply = () => runCli("apply/cli.ts", ["apply", "--stack", "sandbox", "--config-file", STACK, "--state", STATE, "--manifest-out", MANIFEST], STATE_DIR);
const verify = (junit: string) => runCli("verify/cli.ts", ["--manifest", MANIFEST, "--junit", path.join(RESULTS, junit)], STATE_DIR);

async function onHost(command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const shell = await sandboxShell(STATE_DIR);
  try {
    return await shell.run(command);
  } finally {
    shell.close();
  }
}

describe.skipIf(blocker !== undefined)("a deployed sandbox host after a reboot", () => {
  let hostKey = "";
  let pid = 0;

  beforeAll(async () => {
    mkdirSync(RESULTS, { recursive: true });
    rmSync(STATE, { force: true });
    const up = await sandboxUp({ stateDir: STATE_DIR, diskSize: "8G" });
    hostKey = up.connection.hostKey;
    pid = up.connection.nspawnPid;
  });
  afterAll(async () => {
    await sandboxDown({ stateDir: STATE_DIR });
  });

  it("apply deploys btrfs, spark-pg, redis and the KVM guest, and verify passes", async () => {
    const run = await apply();
    console.log(`apply: ${run.seconds.toFixed(1)} s`);
    expect(run.code, run.output).toBe(0);
    const checked = await verify("verify-reboot-before.xml");
    expect(checked.output).toMatch(/^\d+ passed, 0 failed/m);
    expect(checked.code, checked.output).toBe(0);
  }, 900_000);

  it("a row goes into spark-pg main and a key into redis main", async () => {
    const pg = await onHost(`spark-pg connect main -- -c "create table reboot_check (v text); insert into reboot_check values ('kept')"`);
    expect(pg.code, pg.stderr).toBe(0);
    const redis = await onHost("spark-redis connect main -- SET reboot-check kept");
    expect(redis.stdout.trim(), redis.stderr).toBe("OK");
  });

  it("reboot shuts the host down cleanly, spark-pg and redis included, and boots the same root with the same host key", async () => {
    const r = await sandboxReboot({ stateDir: STATE_DIR });
    console.log(`reboot: ${r.seconds.toFixed(1)} s (shutdown ${r.stopSeconds.toFixed(1)} s${r.forcedStop ? ", forced" : ""})`);
    // The busybox guest has no ACPI handler: libvirt-guests gives it the stack's shutdownSeconds (3 s
    // in the sandbox), not Debian's 300 s, so the host's shutdown ends on its own.
    const guests = (await onHost("journalctl -b -1 -u libvirt-guests.service -o cat --no-pager | tail -n 5")).stdout;
    expect(r.forcedStop, `the shutdown was forced; libvirt-guests in the previous boot:\n${guests}`).toBe(false);
    expect(r.connection.nspawnPid).not.toBe(pid);
    expect(r.connection.hostKey).toBe(hostKey);
    for (const unit of ["spark-pg@main", "spark-pg@fixtures", "spark-redis@main", "spark-redis@fixtures"]) {
      const log = (await onHost(`journalctl -b -1 -u ${unit}.service -o cat --no-pager`)).stdout;
      expect(log, unit).toContain(`Stopped ${unit}.service`);
      expect(log, unit).not.toContain("Failed with result");
    }
  }, 300_000);

  it("after the reboot, with nothing re-applied, verify passes again", async () => {
    const failed = await onHost("systemctl --failed --no-legend --plain");
    if (failed.stdout.trim()) console.log(`failed units after the reboot:\n${failed.stdout}`);
    expect((await onHost("findmnt -n -o FSTYPE /srv/sparks")).stdout.trim()).toBe("btrfs");
    const checked = await verify("verify-reboot-after.xml");
    for (const name of ["main", "fixtures"]) {
      expect(checked.output).toContain(`✓ spark-pg ${name}: active`);
      expect(checked.output).toContain(`✓ redis ${name}: active`);
    }
    expect(checked.output).toContain(`✓ kvm ${GUEST}: running`);
    expect(checked.output).toContain(`✓ kvm ${GUEST}: reached userspace`);
    expect(checked.output).toMatch(/^\d+ passed, 0 failed/m);
    expect(checked.code, checked.output).toBe(0);
  }, 300_000);

  it("the row and the key are still there, and the guest runs", async () => {
    expect((await onHost("spark-pg connect main -- -tAc 'select v from reboot_check'")).stdout.trim()).toBe("kept");
    expect((await onHost("spark-redis connect main -- GET reboot-check")).stdout.trim()).toBe("kept");
    expect((await onHost(`virsh domstate ${GUEST}`)).stdout.trim()).toBe("running");
  });
});
