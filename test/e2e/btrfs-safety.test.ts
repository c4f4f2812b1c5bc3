import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { parse } from "yaml";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxDown, sandboxUp } from "../../sandbox";
import type { ExecResult } from "../../lib/ssh";
import { btrfsOnlySandboxStack, e2eBlockerFor, E2E_SANDBOX_DIR, RESULTS, runCli, sandboxShell, summaryOf } from "./support";

const blocker = e2eBlockerFor("the e2e tests");

const UNIT = "/etc/systemd/system/srv-sparks.mount";
const NOTHING_RAN = /^done: 0 ran/m;
const VOLUME_URN = "urn:pulumi:sandbox::sparks::sparks:host:Host$sparks:storage:BtrfsVolume$command:remote:Command::";

/**
 * The sandbox stack as it is, the same volume renamed `store` (same device, label, mount point),
 * and the original with a new converge value (every command re-runs in place).
 */
const stackFiles = {
  original: path.join(RESULTS, "Pulumi.sandbox-btrfs-safety.yaml"),
  renamed: path.join(RESULTS, "Pulumi.sandbox-btrfs-safety-renamed.yaml"),
  converged: path.join(RESULTS, "Pulumi.sandbox-btrfs-safety-converge.yaml"),
  otherPath: path.join(RESULTS, "Pulumi.sandbox-btrfs-safety-device-link.yaml"),
  moved: path.join(RESULTS, "Pulumi.sandbox-btrfs-safety-moved.yaml"),
  moveAsked: path.join(RESULTS, "Pulumi.sandbox-btrfs-safety-move-asked.yaml"),
};
const STATE = path.join(RESULTS, "btrfs-safety.state.json");

/** The subvolumes the sandbox stack declares on its volume, sorted. */
const declaredSubvolumes = (): string[] =>
  (parse(readFileSync(stackFiles.original, "utf8")).config["sparks:hosts"][0].btrfs.volumes[0].subvolumes as { name: string }[]).map((s) => s.name).sort();

function writeStackFiles(): void {
  expect(btrfsOnlySandboxStack("btrfs-safety")).toBe(stackFiles.original);
  const renamed = btrfsOnlySandboxStack("btrfs-safety-renamed", (hosts: any[]) => {
    const volume = hosts[0].btrfs.volumes[0];
    expect(volume.name).toBe("data");
    volume.name = "store";
  });
  expect(renamed).toBe(stackFiles.renamed);
  expect(btrfsOnlySandboxStack("btrfs-safety-converge", undefined, "2")).toBe(stackFiles.converged);
  const volumeEdit = (edit: (volume: any) => void) => (hosts: any[]) => edit(hosts[0].btrfs.volumes[0]);
  expect(btrfsOnlySandboxStack("btrfs-safety-device-link", volumeEdit((v) => (v.device = "/dev/sparks-disk")))).toBe(stackFiles.otherPath);
  expect(btrfsOnlySandboxStack("btrfs-safety-moved", volumeEdit((v) => (v.mountpoint = "/srv/moved")))).toBe(stackFiles.moved);
  expect(
    btrfsOnlySandboxStack(
      "btrfs-safety-move-asked",
      volumeEdit((v) => {
        v.mountpoint = "/srv/moved";
        v.previousMountpoint = "/srv/sparks";
      }),
    ),
  ).toBe(stackFiles.moveAsked);
}

const apply = (stack: keyof typeof stackFiles, ...args: string[]) =>
  runCli("apply/cli.ts", [
    "apply",
    "--stack",
    "sandbox",
    "--config-file",
    stackFiles[stack],
    "--state",
    STATE,
    // Apart from the manifest `verify --stack sandbox` reads, which other tests may be writing.
    ...(args.includes("--destroy") ? [] : ["--manifest-out", path.join(RESULTS, "btrfs-safety-manifest.json")]),
    ...args,
  ]);

let shell: Awaited<ReturnType<typeof sandboxShell>>;
/** Runs a command on the sandbox host and fails the test, naming it, if it fails. */
async function host(command: string): Promise<string> {
  const result = await shell.run(command);
  expect(result.code, `${command}\n${result.stdout}${result.stderr}`).toBe(0);
  return result.stdout;
}
const probe = (command: string): Promise<ExecResult> => shell.run(command);

/** Mounts /dev/vdb by hand at /mnt/check, runs `command` there, and unmounts it again. */
async function onTheDisk(command: string): Promise<string> {
  await host("mkdir -p /mnt/check && mount /dev/vdb /mnt/check");
  try {
    return await host(`cd /mnt/check && ${command}`);
  } finally {
    await host("umount /mnt/check");
  }
}

describe.skipIf(blocker !== undefined)("btrfs volume safety on the sandbox host", () => {
  beforeAll(async () => {
    mkdirSync(RESULTS, { recursive: true });
    rmSync(STATE, { force: true });
    writeStackFiles();
    await sandboxUp({ stateDir: E2E_SANDBOX_DIR, diskSize: "4G" });
    shell = await sandboxShell();
  });
  afterAll(async () => {
    shell?.close();
    await sandboxDown({ stateDir: E2E_SANDBOX_DIR });
  });

  it("a renamed volume keeps its data: the engine creates the new names, then the old ones' deletes leave what they claimed", async () => {
    expect((await apply("original")).code).toBe(0);
    await host("echo kept > /srv/sparks/pg/marker");

    // One apply, as pulumi up: the new resources first (they take the claims over), then the old ones' stored deletes.
    const renamed = await apply("renamed", "--json");
    expect(renamed.code).toBe(0);
    const summary = summaryOf(renamed);
    expect(summary.steps.create).toEqual(expect.arrayContaining(["sandbox-store-format", "sandbox-store-mount", "sandbox-store-subvolume-pg"]));
    expect(summary.steps.delete).toEqual(expect.arrayContaining(["sandbox-data-format", "sandbox-data-mount", "sandbox-data-subvolume-pg"]));
    expect(renamed.output).toContain(`taking it over from ${VOLUME_URN}sandbox-data-subvolume-pg`);
    expect(renamed.output).toContain(`subvolume /srv/sparks/pg is claimed by ${VOLUME_URN}sandbox-store-subvolume-pg: left in place`);
    expect(renamed.output).toContain(`srv-sparks.mount is claimed by ${VOLUME_URN}sandbox-store-mount: left in place`);

    expect(await host("cat /srv/sparks/pg/marker")).toBe("kept\n");
    expect(await host("findmnt -n -v -o SOURCE,FSTYPE --mountpoint /srv/sparks")).toBe("/dev/vdb btrfs\n");
    expect(await host(`test -f ${UNIT} && systemctl is-enabled srv-sparks.mount`)).toBe("enabled\n");
    for (const name of declaredSubvolumes()) await host(`btrfs subvolume show /srv/sparks/${name} >/dev/null`);

    const again = await apply("renamed");
    expect(again.output).toMatch(NOTHING_RAN);
    expect(again.code).toBe(0);
  });

  it("the new owner's destroy does remove the volume it formatted: unmounted, unit gone, device blank", async () => {
    const run = await apply("renamed", "--destroy");
    expect(run.output).toContain("✓ sandbox-store-format: changed (delete");
    expect(run.code).toBe(0);
    expect((await probe("mountpoint -q /srv/sparks")).code).not.toBe(0);
    expect((await probe(`test -e ${UNIT}`)).code).not.toBe(0);
    expect((await probe("blkid -p /dev/vdb")).code).toBe(2);
  });

  it("destroy leaves a filesystem the deploy adopted and a subvolume that was there, with their files", async () => {
    await host("mkfs.btrfs -q -f -L sparks-data /dev/vdb");
    const uuid = await host("blkid -p -s UUID -o value /dev/vdb");
    await onTheDisk("echo mine > made-by-hand && btrfs subvolume create pg >/dev/null && echo mine > pg/made-by-hand");

    const adopted = await apply("original");
    expect(adopted.output).toContain("/dev/vdb already holds btrfs labelled sparks-data");
    expect(adopted.code).toBe(0);

    const destroyed = await apply("original", "--destroy");
    expect(destroyed.output).toContain(`it was adopted, not formatted by ${VOLUME_URN}sandbox-data-format: left in place`);
    expect(destroyed.output).toContain(`it was there before, not created by ${VOLUME_URN}sandbox-data-subvolume-pg: left in place`);
    expect(destroyed.output).toContain("✓ sandbox-data-subvolume-redis: changed (delete");
    expect(destroyed.code).toBe(0);
    expect((await probe("mountpoint -q /srv/sparks")).code).not.toBe(0);
    expect(await host("blkid -p -s UUID -o value /dev/vdb")).toBe(uuid);
    expect(await onTheDisk("cat made-by-hand pg/made-by-hand")).toBe("mine\nmine\n");
    // The subvolumes the deploy created are gone: only the one made by hand is left.
    expect(await onTheDisk("btrfs subvolume list -o . | awk '{ print $NF }'")).toBe("pg\n");
  });

  it("a setgid bit set by hand stays until a new converge value re-runs the subvolumes, which clears it", async () => {
    expect((await apply("original")).code).toBe(0);
    await host("chmod 2755 /srv/sparks/pg && chmod 2711 /srv/sparks/redis && chmod 3777 /srv/sparks/scratch");

    // Nothing in the program changed: the engine runs nothing, and the drift stays.
    expect((await apply("original")).output).toMatch(NOTHING_RAN);
    expect(await host("stat -c '%a' /srv/sparks/pg")).toBe("2755\n");

    const repaired = await apply("converged");
    expect(repaired.output).toContain("✓ sandbox-data-subvolume-pg: changed (update");
    expect(repaired.output).toContain("✓ sandbox-data-subvolume-redis: changed (update");
    expect(repaired.output).toContain("✓ sandbox-data-subvolume-scratch: changed (update");
    expect(repaired.code).toBe(0);

    const again = await apply("converged");
    expect(again.output).toMatch(NOTHING_RAN);
    expect(again.code).toBe(0);
    expect(await host("stat -c '%n %a' /srv/sparks/pg /srv/sparks/redis /srv/sparks/scratch")).toBe(
      "/srv/sparks/pg 755\n/srv/sparks/redis 711\n/srv/sparks/scratch 1777\n",
    );
  });

  it("the mount refuses another filesystem at the mount point, naming it; the failed update is tried again", async () => {
    await host("systemctl stop srv-sparks.mount && mount -t tmpfs sparks-impostor /srv/sparks");
    try {
      // Back to the first converge value: every command updates, the mount among them.
      const run = await apply("original");
      expect(run.output).toContain("sparks-impostor is mounted at /srv/sparks, expected /dev/vdb");
      expect(run.output).toMatch(/^FAILED at sandbox-data-mount/m);
      expect(run.code).toBe(1);
    } finally {
      await host("umount /srv/sparks");
    }
    // The failed update left the mount's old state: the next apply runs it again.
    const retried = await apply("original");
    expect(retried.output).toContain("✓ sandbox-data-mount: changed (update");
    expect(retried.code).toBe(0);
    expect(await host("findmnt -n -v -o SOURCE --mountpoint /srv/sparks")).toBe("/dev/vdb\n");
  });

  it("with the volume unmounted, destroy deletes no subvolume and says so", async () => {
    // The filesystem is the adopted one: destroy leaves it, so its subvolumes can be looked at after.
    await host("systemctl stop srv-sparks.mount");
    const run = await apply("original", "--destroy");
    expect(run.output).toContain("nothing is mounted at /srv/sparks: subvolume pg of sparks-data left in place");
    expect(run.output).toContain("nothing is mounted at /srv/sparks: quotas of sparks-data left as they are");
    expect(run.code).toBe(0);
    expect(await onTheDisk("btrfs subvolume list -o . | awk '{ print $NF }' | sort")).toBe(declaredSubvolumes().map((n) => `${n}\n`).join(""));
    expect(await onTheDisk("btrfs qgroup show . >/dev/null && echo quotas on")).toBe("quotas on\n");
  });

  it("a mount that cannot start leaves no unit behind, and mounts once the cause is gone", async () => {
    // No allowed mount option fails on this kernel, so the start fails another way: the mount
    // point is a regular file.
    await host("rmdir /srv/sparks 2>/dev/null; echo in-the-way > /srv/sparks");
    const failed = await apply("original");
    expect(failed.output).toContain("removed the new srv-sparks.mount");
    expect(failed.output).toMatch(/^FAILED at sandbox-data-mount/m);
    expect(failed.code).toBe(1);
    expect((await probe(`test -e ${UNIT}`)).code).not.toBe(0);
    expect((await probe("systemctl is-enabled srv-sparks.mount")).stdout).not.toBe("enabled\n");
    expect((await probe("systemctl is-failed srv-sparks.mount")).stdout).not.toBe("failed\n");

    await host("rm /srv/sparks");
    expect((await apply("original")).code).toBe(0);
    expect(await host("systemctl is-enabled srv-sparks.mount && findmnt -n -v -o SOURCE --mountpoint /srv/sparks")).toBe(
      "enabled\n/dev/vdb\n",
    );
  });

  it("a device path change (the same disk by another name) remounts in place: what runs on the volume keeps running", async () => {
    await host("ln -sfn /dev/vdb /dev/sparks-disk && mkdir -p /srv/sparks/scratch/busy");
    await host("systemd-run --unit=sparks-busy --property=WorkingDirectory=/srv/sparks/scratch/busy sleep 600");
    const pid = await host("systemctl show -P MainPID sparks-busy");
    const run = await apply("otherPath", "--json");
    expect(run.code, run.output).toBe(0);
    expect(summaryOf(run).counts).toMatchObject({ replace: 0, delete: 0, create: 0 });
    expect(summaryOf(run).steps.update).toEqual(expect.arrayContaining(["sandbox-data-mount", "sandbox-data-format"]));
    expect(await host("systemctl show -P MainPID sparks-busy")).toBe(pid);
    expect(await host("grep -x 'What=/dev/sparks-disk' " + UNIT)).toBe("What=/dev/sparks-disk\n");
    await host("systemctl stop sparks-busy");
  });

  it("a mount point change is refused, naming where the volume is, unless previousMountpoint asks for the move", async () => {
    await host("echo kept > /srv/sparks/pg/moved-marker");
    const refused = await apply("moved");
    expect(refused.code).toBe(1);
    expect(refused.output).toContain("is mounted at /srv/sparks, not /srv/moved: moving it stops everything on the volume; set previousMountpoint: /srv/sparks on volume sandbox-data to move it");
    expect(await host("findmnt -n -v -o SOURCE --mountpoint /srv/sparks")).toBe("/dev/vdb\n");

    const moved = await apply("moveAsked");
    expect(moved.code, moved.output).toBe(0);
    expect(moved.output).toContain("unmounted /dev/vdb from /srv/sparks to move it to /srv/moved");
    expect(await host("cat /srv/moved/pg/moved-marker")).toBe("kept\n");
    expect((await probe("mountpoint -q /srv/sparks")).code).not.toBe(0);
    expect((await probe(`test -e ${UNIT}`)).code).not.toBe(0);
    expect(await host("systemctl is-enabled srv-moved.mount")).toBe("enabled\n");
    const again = await apply("moveAsked");
    expect(again.output).toMatch(NOTHING_RAN);
  });
});
