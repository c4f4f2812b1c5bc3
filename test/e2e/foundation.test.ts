import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { btrfsOnlySandboxStack, e2eBlockerFor, E2E_SANDBOX_DIR, RESULTS, sandboxDeploy, sandboxHostForTests, sandboxShell, summaryOf } from "./support";

const blocker = e2eBlockerFor("the e2e tests");

const VOLUME = "btrfs sandbox-data";
/** With the e2e run's own manifest: `.sparks/sandbox/` is the developer's. */
const { apply: applyStack, verify } = sandboxDeploy(E2E_SANDBOX_DIR, path.join(RESULTS, "verify-manifest-sandbox.json"));
const STACK = btrfsOnlySandboxStack("foundation");
/** The same stack with a new converge value: every command re-runs in place, as `pulumi up` would. */
const CONVERGED = btrfsOnlySandboxStack("foundation-converge-1", undefined, "1");
const apply = (...args: string[]) => applyStack(STACK, ...args);

/** The converged stack with its volume marked protected: destroy must leave its data. */
function protectedStackFile(): string {
  return btrfsOnlySandboxStack(
    "foundation-protected",
    (hosts) => {
      for (const volume of hosts[0].btrfs.volumes) volume.protect = true;
    },
    "1",
  );
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

  it("a second apply on an unchanged stack runs nothing, as pulumi up would", async () => {
    const run = await apply("--json");
    const summary = summaryOf(run);
    expect(summary.ran).toEqual([]);
    expect(summary.counts).toMatchObject({ create: 0, update: 0, replace: 0, delete: 0 });
    expect(summary.counts.same).toBeGreaterThan(5);
    expect(run.code).toBe(0);
    console.log(`no-change apply: ${run.seconds.toFixed(1)} s`);
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

  it("an unchanged apply does not see the drift: it runs nothing and verify still fails", async () => {
    const run = await apply("--json");
    expect(summaryOf(run).ran).toEqual([]);
    expect((await verify("verify-after-unchanged-apply.xml")).code).toBe(1);
  });

  it("a new converge value re-runs every command in place, which repairs the drift", async () => {
    const run = await applyStack(CONVERGED, "--json");
    const summary = summaryOf(run);
    expect(summary.counts).toMatchObject({ create: 0, delete: 0 });
    // The shipped scripts are copied again: their copy has no update that would (copyController.go Update).
    expect(summary.steps.replace).toEqual(["sandbox-host-files"]);
    expect(summary.steps.update).toEqual(expect.arrayContaining(["sandbox-wait-for-ssh", "sandbox-base-packages", "sandbox-data-format", "sandbox-data-mount", "sandbox-data-subvolume-scratch"]));
    expect(summary.changed).toEqual(expect.arrayContaining(["sandbox-data-mount", "sandbox-data-subvolume-scratch"]));
    expect(summary.changed).not.toContain("sandbox-data-format");
    expect(run.code).toBe(0);
    const check = await verify("verify-after-repair.xml");
    expect(check.output).toMatch(/^\d+ passed, 0 failed/m);
    expect(check.code).toBe(0);
  });

  it("destroy refuses a protected volume, naming it, and leaves its data", async () => {
    const configFile = protectedStackFile();
    // Protecting is an option change only: nothing runs, the state records it.
    const protect = await applyStack(configFile, "--json");
    expect(summaryOf(protect).ran).toEqual([]);
    const shell = await sandboxShell();
    try {
      expect((await shell.run("echo kept > /srv/sparks/pg/marker")).code).toBe(0);
      const refused = await applyStack(configFile, "--destroy");
      // The engine goes on past a refused delete but keeps what it stands on (deployment_executor.go erroredDeps).
      expect(refused.output).toMatch(/^✗ sandbox-data-subvolume-pg: delete failed \(.*\): resource \S+::sandbox-data-subvolume-pg cannot be deleted because it is protected$/m);
      expect(refused.output).toContain("· sandbox-data-format: delete not started");
      expect(refused.code).toBe(1);
      const excluding = await applyStack(configFile, "--destroy", "--exclude-protected");
      expect(excluding.output).toMatch(/^done: 0 ran/m);
      expect(excluding.code).toBe(0);
      expect((await shell.run("cat /srv/sparks/pg/marker")).stdout).toBe("kept\n");
      expect((await shell.run("blkid -p -s LABEL -o value /dev/vdb")).stdout).toBe("sparks-data\n");
    } finally {
      shell.close();
    }
  });

  it("destroy removes an unprotected volume: unmounted, unit gone, device blank", async () => {
    // Unprotecting is an option change too; then destroy deletes what the state holds.
    expect((await applyStack(CONVERGED)).code).toBe(0);
    const run = await applyStack(CONVERGED, "--destroy");
    expect(run.output).toContain("✓ sandbox-data-format: changed (delete");
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
