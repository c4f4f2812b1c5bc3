import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { e2eBlockerFor, RESULTS, ROOT, sandboxDeploy, sandboxHostForTests, sandboxStackFile, summaryOf } from "./support";

const blocker = e2eBlockerFor("the KVM guest e2e tests");

/** This file's own sandbox host. */
const STATE_DIR = path.join(ROOT, ".sandbox-e2e-kvm");
const { apply, verify, onHost } = sandboxDeploy(STATE_DIR, path.join(RESULTS, "verify-manifest-sandbox-kvm.json"));
const GUEST = "spark-dev-1";
const GUEST_DIR = `/srv/sparks/images/guests/${GUEST}`;

/** The sandbox stack with btrfs and kvm only, the guest's memory set to `memory` (and its protection, and the converge value). */
function kvmStack(name: string, memory: string, options: { protect?: boolean; converge?: string } = {}): string {
  return sandboxStackFile(
    name,
    ["kvm"],
    (hosts) => {
      hosts[0].kvm.guests[0].memory = memory;
      if (options.protect) {
        hosts[0].kvm.guests[0].protect = true;
        for (const volume of hosts[0].btrfs.volumes) volume.protect = true;
      }
    },
    options.converge,
  );
}

/** Waits until the guest has printed its readiness line for this boot. */
async function waitForReady(seconds = 60): Promise<string> {
  const result = await onHost(`for i in $(seq 1 ${seconds * 5}); do grep -m1 '^sparks-ready ' ${GUEST_DIR}/console.log 2>/dev/null && exit 0; sleep 0.2; done; exit 1`);
  return result.stdout.trim();
}

describe.skipIf(blocker !== undefined)("KVM guest on the sandbox host (TCG)", () => {
  const small = () => kvmStack("kvm-256m", "256M");
  const large = () => kvmStack("kvm-384m", "384M");
  const largeConverged = () => kvmStack("kvm-384m-converge", "384M", { converge: "1" });
  let uuid = "";
  let inode = "";

  sandboxHostForTests(STATE_DIR, "8G", 120_000);

  it("apply installs libvirt, builds the image and boots the guest to userspace", async () => {
    const run = await apply(small());
    console.log(`first apply: ${run.seconds.toFixed(1)} s`);
    expect(run.output).toMatch(/sandbox-kvm-guest-spark-dev-1-domain: changed/);
    expect(run.code).toBe(0);
    const ready = await waitForReady();
    expect(ready).toContain(`instance-id=${GUEST}-tiny-`);
    expect(ready).toContain("disk-bytes=1073741824");
    uuid = (await onHost(`virsh domuuid ${GUEST}`)).stdout.trim();
    inode = (await onHost(`stat -c %i ${GUEST_DIR}/disk.raw`)).stdout.trim();
    expect(uuid).toMatch(/^[0-9a-f-]{36}$/);
  }, 600_000);

  it("verify passes, nested KVM skipped with its reason", async () => {
    const run = await verify("verify-kvm-after-apply.xml");
    for (const check of ["defined", "running", "autostart", "memory", "vCPUs", "reached userspace"]) expect(run.output).toContain(`✓ kvm ${GUEST}: ${check}`);
    expect(run.output).toContain(`- kvm ${GUEST}: /dev/kvm in the guest (skipped: the host has no /dev/kvm`);
    for (const check of ["libvirtd enabled at boot", "/etc/libvirt/qemu.conf cgroup_controllers", "/etc/default/libvirt-guests ON_BOOT", "/etc/default/libvirt-guests ON_SHUTDOWN", "/etc/default/libvirt-guests SHUTDOWN_TIMEOUT"]) {
      expect(run.output).toContain(`✓ kvm host: ${check}`);
    }
    expect(run.output).toMatch(/^\d+ passed, 0 failed/m);
    expect(run.code).toBe(0);
  }, 120_000);

  it("the guest disk is a reflink clone: it shares its blocks with the base image", async () => {
    const shared = await onHost(`btrfs filesystem du --raw ${GUEST_DIR}/disk.raw | tail -n 1`);
    expect(shared.code).toBe(0);
    const [total, exclusive] = shared.stdout.trim().split(/\s+/).map(Number);
    expect(total).toBeGreaterThan(0);
    expect(exclusive).toBeLessThan(total);
  }, 60_000);

  it("a second apply runs nothing", async () => {
    const run = await apply(small());
    expect(run.output).toMatch(/^done: 0 ran, 0 changed/m);
    expect(run.code).toBe(0);
  }, 120_000);

  it("a memory change is applied in place: same UUID, same disk, restarted with the new memory", async () => {
    const run = await apply(large());
    expect(run.output).toContain("stopped spark-dev-1 to apply its new definition (restart)");
    expect(run.code).toBe(0);
    expect((await onHost(`virsh domuuid ${GUEST}`)).stdout.trim()).toBe(uuid);
    expect((await onHost(`stat -c %i ${GUEST_DIR}/disk.raw`)).stdout.trim()).toBe(inode);
    expect((await onHost(`virsh dominfo ${GUEST}`)).stdout).toMatch(/Max memory:\s+393216 KiB/);
    await waitForReady();
    const after = await verify("verify-kvm-after-memory.xml");
    expect(after.output).toContain(`✓ kvm ${GUEST}: memory`);
    expect(after.code).toBe(0);
  }, 300_000);

  it("verify fails by name when the guest is stopped; a new converge value starts it", async () => {
    expect((await onHost(`virsh destroy ${GUEST}`)).code).toBe(0);
    const run = await verify("verify-kvm-stopped.xml");
    expect(run.output).toContain(`✗ kvm ${GUEST}: running`);
    expect(run.code).toBe(1);
    expect((await apply(large())).output).toMatch(/^done: 0 ran/m);
    const repair = await apply(largeConverged());
    expect(repair.output).toContain("started spark-dev-1");
    expect(repair.code).toBe(0);
  }, 300_000);

  it("`--replace` of a protected guest is refused and runs nothing", async () => {
    const guarded = kvmStack("kvm-384m-protected", "384M", { protect: true, converge: "1" });
    expect((await apply(guarded)).code).toBe(0);
    const run = await apply(guarded, "--replace", "sandbox-kvm-guest-spark-dev-1-domain", "--json");
    expect(run.output).toMatch(/^✗ sandbox-kvm-guest-spark-dev-1-domain: replace failed .*unable to replace resource \S+ as it is currently marked for protection$/m);
    expect(summaryOf(run).ran).toEqual([]);
    expect(run.code).toBe(1);
    expect((await onHost(`virsh domuuid ${GUEST}`)).stdout.trim()).toBe(uuid);
  }, 300_000);

  it("`--replace` of an unprotected guest deletes it first, disk and all, and creates a new one", async () => {
    // Unprotected first: a replace in the same run as the unprotect would skip the old delete, as
    // the state still says retainOnDelete (step.go DeleteStep.Apply reads the old state's).
    expect(summaryOf(await apply(largeConverged(), "--json")).ran).toEqual([]);
    const run = await apply(largeConverged(), "--replace", "sandbox-kvm-guest-spark-dev-1-domain", "--json");
    expect(run.code, run.output).toBe(0);
    expect(summaryOf(run).steps.replace).toEqual(["sandbox-kvm-guest-spark-dev-1-domain"]);
    expect(run.output).toContain("✓ sandbox-kvm-guest-spark-dev-1-domain: changed (delete then create");
    expect(run.output).toMatch(/deleted guest spark-dev-1/);
    expect((await onHost(`virsh domuuid ${GUEST}`)).stdout.trim()).not.toBe(uuid);
    expect((await onHost(`stat -c %i ${GUEST_DIR}/disk.raw`)).stdout.trim()).not.toBe(inode);
    expect(await waitForReady()).toContain(`instance-id=${GUEST}-tiny-`);
  }, 300_000);

  it("with libvirt unreachable, the guest delete fails naming it and removes nothing", async () => {
    const inodeNow = (await onHost(`stat -c %i ${GUEST_DIR}/disk.raw`)).stdout.trim();
    // The sockets too: one would start libvirtd again on the delete's first call.
    await onHost("systemctl stop libvirtd.socket libvirtd-ro.socket libvirtd-admin.socket libvirtd.service");
    try {
      const run = await apply(largeConverged(), "--destroy");
      expect(run.output).toMatch(/error: libvirt is unreachable, so whether guest spark-dev-1 exists cannot be known; nothing removed/);
      expect(run.code).toBe(1);
      expect((await onHost(`stat -c %i ${GUEST_DIR}/disk.raw`)).stdout.trim()).toBe(inodeNow);
    } finally {
      await onHost(`systemctl start libvirtd.socket libvirtd-ro.socket libvirtd-admin.socket`);
    }
    expect((await onHost(`virsh domstate ${GUEST}`)).stdout.trim()).toBe("running");
  }, 300_000);

  it("destroy undefines the domain and removes its disk", async () => {
    const run = await apply(largeConverged(), "--destroy");
    expect(run.output).toMatch(/deleted guest spark-dev-1/);
    expect(run.code).toBe(0);
    expect((await onHost(`virsh dominfo ${GUEST}`)).code).not.toBe(0);
    expect((await onHost(`test -e ${GUEST_DIR}`)).code).not.toBe(0);
  }, 300_000);
});
