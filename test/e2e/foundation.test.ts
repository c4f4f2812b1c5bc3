import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { btrfsOnlySandboxStack, e2eBlockerFor, E2E_SANDBOX_DIR, RESULTS, sandboxDeploy, sandboxHostForTests, sandboxShell } from "./support";

const blocker = e2eBlockerFor("the e2e tests");

const VOLUME = "btrfs sandbox-data";
/** With the e2e run's own manifest: `.sparks/sandbox/` is the developer's. */
const { apply: applyStack, verify } = sandboxDeploy(E2E_SANDBOX_DIR, path.join(RESULTS, "verify-manifest-sandbox.json"));
const STACK = btrfsOnlySandboxStack("foundation");
const apply = (...args: string[]) => applyStack(STACK, ...args);

/** The same stack with its volume marked protected: destroy must leave its data. */
function protectedStackFile(): string {
  return btrfsOnlySandboxStack("foundation-protected", (hosts) => {
    for (const volume of hosts[0].btrfs.volumes) volume.protect = true;
  });
}

describe.skipIf(blocker !== undefined)("deploy -> verify on the sandbox host", () => {
  sandboxHostForTests(E2E_SANDBOX_DIR, "4G");

  it("first apply brings the host to the declared state", async () => {
    const run = await apply();
    expect(run.output).toMatch(/^done: \d+ ran, [1-9]\d* changed/m);
    expect(run.code).toBe(0);
    console.log(`first apply: ${run.seconds.toFixed(1)} s`);
  });

  it("verify passes on the fresh deploy", async () => {
    const run = await verify("verify-after-apply.xml");
    expect(run.output).toMatch(/^\d+ passed, 0 failed/m);
    expect(run.output).toContain(`✓ ${VOLUME}: mounted at /srv/sparks`);
    expect(run.code).toBe(0);
    console.log(`verify: ${run.seconds.toFixed(1)} s`);
  });

  it("a second apply on an unchanged stack changes nothing", async () => {
    const run = await apply();
    expect(run.output).toMatch(/^done: \d+ ran, 0 changed/m);
    expect(run.code).toBe(0);
    console.log(`idempotent re-apply: ${run.seconds.toFixed(1)} s`);
  });

  it("verify fails, naming the checks, when the host drifts", async () => {
    const shell = await sandboxShell();
    try {
      expect((await shell.run("btrfs subvolume delete /srv/sparks/scratch")).code).toBe(0);
      expect((await shell.run("systemctl stop srv-sparks.mount && ! mountpoint -q /srv/sparks")).code).toBe(0);
      expect((await shell.run("systemctl disable --quiet srv-sparks.mount")).code).toBe(0);
    } finally {
      shell.close();
    }
    const run = await verify("verify-after-drift.xml");
    expect(run.code).toBe(1);
    expect(run.output).toContain(`✗ ${VOLUME}: mounted at /srv/sparks`);
    expect(run.output).toContain(`✗ ${VOLUME}/scratch: subvolume at /srv/sparks/scratch`);
    expect(run.output).toContain(`✗ ${VOLUME}: mounted at boot (srv-sparks.mount enabled)`);
    expect(run.output).toContain("✓ package btrfs-progs: installed");
    expect(run.output).toMatch(/^\d+ passed, [1-9]\d* failed/m);
    expect(readFileSync(path.join(RESULTS, "verify-after-drift.xml"), "utf8")).toContain("<failure");
  });

  it("apply repairs the drift and verify passes again", async () => {
    const run = await apply();
    expect(run.output).toContain("✓ sandbox-data-mount: changed");
    expect(run.output).toContain("✓ sandbox-data-subvolume-scratch: changed");
    expect(run.code).toBe(0);
    const check = await verify("verify-after-repair.xml");
    expect(check.output).toMatch(/^\d+ passed, 0 failed/m);
    expect(check.code).toBe(0);
  });

  it("destroy keeps a protected volume's data", async () => {
    const configFile = protectedStackFile();
    expect((await applyStack(configFile)).code).toBe(0);
    const shell = await sandboxShell();
    try {
      expect((await shell.run("echo kept > /srv/sparks/pg/marker")).code).toBe(0);
      const run = await applyStack(configFile, "--destroy");
      expect(run.output).toContain("- sandbox-data-format: protected, left in place");
      expect(run.code).toBe(0);
      expect((await shell.run("cat /srv/sparks/pg/marker")).stdout).toBe("kept\n");
      expect((await shell.run("blkid -p -s LABEL -o value /dev/vdb")).stdout).toBe("sparks-data\n");
    } finally {
      shell.close();
    }
  });

  it("destroy removes an unprotected volume: unmounted, unit gone, device blank", async () => {
    const run = await apply("--destroy");
    expect(run.output).toContain("✓ sandbox-data-format: changed");
    expect(run.code).toBe(0);
    const shell = await sandboxShell();
    try {
      expect((await shell.run("mountpoint -q /srv/sparks")).code).not.toBe(0);
      expect((await shell.run("test -e /etc/systemd/system/srv-sparks.mount")).code).not.toBe(0);
      const probe = await shell.run("blkid -p /dev/vdb");
      expect(probe.stdout).toBe("");
      expect(probe.code).toBe(2);
    } finally {
      shell.close();
    }
  });

  it("refuses to format a device that holds another filesystem, and leaves it as it was", async () => {
    const shell = await sandboxShell();
    try {
      expect((await shell.run("mkfs.ext4 -q -L precious /dev/vdb")).code).toBe(0);
      const run = await apply();
      expect(run.code).toBe(1);
      expect(run.output).toContain('/dev/vdb holds a ext4 filesystem labelled "precious"; refusing to format it');
      expect(run.output).toMatch(/^FAILED at sandbox-data-format/m);
      expect((await shell.run("blkid -p -s LABEL -o value /dev/vdb")).stdout).toBe("precious\n");
      await shell.run("wipefs -q -a /dev/vdb");
    } finally {
      shell.close();
    }
  });
});
