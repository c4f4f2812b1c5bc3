import { describe, expect, it } from "vitest";
import { hasMountOption, parseFindmnt, parseQgroupShow, parseStat, parseSubvolumeId } from "../../verify/checks/btrfs-output";
import { checkBtrfsVolume, plannedBtrfsVolumeChecks } from "../../verify/checks/btrfs-volume";
import type { BtrfsVolumeExpectation } from "../../verify/manifest";
import type { CheckResult, Exec, ExecResult } from "../../verify/types";

// Outputs recorded from the real tools (util-linux 2.38.1, btrfs-progs v6.2, coreutils 9.1) on a
// loop-device btrfs mounted with `-o noatime,compress=zstd`, subvolumes pg (nobody:nogroup 750,
// limit 100 MiB) and cache (root:root 755), quotas enabled.
const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: "" });
const err = (code: number, stderr: string): ExecResult => ({ code, stdout: "", stderr });

const recorded = {
  findmnt: ok(
    [
      "{",
      '   "filesystems": [',
      "      {",
      '         "target": "/srv/data",',
      '         "source": "/dev/loop0",',
      '         "fstype": "btrfs",',
      '         "options": "rw,noatime,compress=zstd:3,discard=async,space_cache=v2,subvolid=5,subvol=/"',
      "      }",
      "   ]",
      "}",
      "",
    ].join("\n"),
  ),
  findmntNotMounted: { code: 1, stdout: "", stderr: "" },
  label: ok("sparkdata\n"),
  qgroupShow: ok(
    [
      "Qgroupid    Referenced    Exclusive  Max referenced  Max exclusive   Path ",
      "--------    ----------    ---------  --------------  -------------   ---- ",
      "0/5              16384        16384            none           none   <toplevel>",
      "0/256            16384        16384       104857600           none   pg",
      "0/257            16384        16384            none           none   cache",
      "",
    ].join("\n"),
  ),
  qgroupShowQuotasOff: err(1, "ERROR: can't list qgroups: quotas not enabled\n"),
  subvolumeShowPg: ok(
    [
      "pg",
      "\tName: \t\t\tpg",
      "\tUUID: \t\t\te371490a-4b72-d14f-987c-8e5a7e29eced",
      "\tParent UUID: \t\t-",
      "\tReceived UUID: \t\t-",
      "\tCreation time: \t\t2026-11-24 00:29:22 +0000",
      "\tSubvolume ID: \t\t256",
      "\tGeneration: \t\t9",
      "\tGen at creation: \t7",
      "\tParent ID: \t\t5",
      "\tTop level ID: \t\t5",
      "\tFlags: \t\t\t-",
      "\tSend transid: \t\t0",
      "\tSend time: \t\t2026-11-24 00:29:22 +0000",
      "\tReceive transid: \t0",
      "\tReceive time: \t\t-",
      "\tSnapshot(s):",
      "\tQuota group:\t\t0/256",
      "\t  Limit referenced:\t100.00MiB",
      "\t  Limit exclusive:\t-",
      "\t  Usage referenced:\t16.00KiB",
      "\t  Usage exclusive:\t16.00KiB",
      "",
    ].join("\n"),
  ),
  subvolumeShowCache: ok("cache\n\tName: \t\t\tcache\n\tSubvolume ID: \t\t257\n\tParent ID: \t\t5\n"),
  subvolumeShowPlainDir: err(1, "ERROR: Not a Btrfs subvolume: Invalid argument\n"),
  subvolumeShowMissing: err(1, "ERROR: cannot find real path for '/srv/data/pg': No such file or directory\n"),
  statPg: ok("nobody nogroup 750\n"),
  statCache: ok("root root 755\n"),
  statMissing: err(1, "stat: cannot statx '/srv/data/pg': No such file or directory\n"),
  readlink: ok("/dev/loop0\n/dev/loop0\n"),
  isEnabled: ok("enabled\n"),
  isEnabledDisabled: { code: 1, stdout: "disabled\n", stderr: "" },
};

const volume = (): BtrfsVolumeExpectation => ({
  name: "data",
  device: "/dev/loop0",
  label: "sparkdata",
  mountpoint: "/srv/data",
  mountUnit: "srv-data.mount",
  mountOptions: ["noatime", "compress=zstd"],
  quotas: true,
  subvolumes: [
    { name: "pg", path: "/srv/data/pg", owner: "nobody", group: "nogroup", mode: "750", limitBytes: 104857600 },
    { name: "cache", path: "/srv/data/cache", owner: "root", group: "root", mode: "755", limitBytes: null },
  ],
});

type Outputs = Partial<Record<keyof typeof recorded, ExecResult>>;

/** Answers each command with a recorded output; `overrides` swap in another recording for a twin. */
function fakeHost(overrides: Outputs = {}, extraRoutes: Array<[RegExp, ExecResult]> = []) {
  const out = { ...recorded, ...overrides };
  const commands: string[] = [];
  const exec: Exec = async (command) => {
    commands.push(command);
    const routes: Array<[RegExp, ExecResult]> = [
      ...extraRoutes,
      [/^findmnt /, out.findmnt],
      [/^systemctl is-enabled -- srv-data\.mount$/, out.isEnabled],
      [/^readlink /, out.readlink],
      [/^(sudo -n )?btrfs filesystem label /, out.label],
      [/^(sudo -n )?btrfs qgroup show /, out.qgroupShow],
      [/^(sudo -n )?btrfs subvolume show \/srv\/data\/pg$/, out.subvolumeShowPg],
      [/^(sudo -n )?btrfs subvolume show \/srv\/data\/cache$/, out.subvolumeShowCache],
      [/^stat .* \/srv\/data\/pg$/, out.statPg],
      [/^stat .* \/srv\/data\/cache$/, out.statCache],
    ];
    const route = routes.find(([pattern]) => pattern.test(command));
    if (route === undefined) throw new Error(`unexpected command: ${command}`);
    return route[1];
  };
  return { exec, commands };
}

const byName = (results: CheckResult[], name: string): CheckResult => {
  const result = results.find((r) => r.name === name);
  if (result === undefined) throw new Error(`no check named ${name}; have:\n${results.map((r) => r.name).join("\n")}`);
  return result;
};

describe("checkBtrfsVolume", () => {
  it("passes every check on a volume in the declared state, in plan order", async () => {
    const results = await checkBtrfsVolume(fakeHost().exec, volume());
    expect(results.filter((r) => r.status !== "pass")).toEqual([]);
    expect(results.map((r) => r.name)).toEqual(plannedBtrfsVolumeChecks(volume()).map((c) => c.name));
    expect(results.map((r) => r.name)).toContain("btrfs data: mounted at /srv/data");
  });

  it("fails the boot check when the mount unit is not enabled, though the volume is mounted now", async () => {
    const results = await checkBtrfsVolume(fakeHost({ isEnabled: recorded.isEnabledDisabled }).exec, volume());
    expect(byName(results, "btrfs data: mounted at boot (srv-data.mount enabled)")).toMatchObject({
      status: "fail",
      expected: "enabled",
      found: "disabled",
    });
    expect(byName(results, "btrfs data: mounted at /srv/data").status).toBe("pass");
  });

  it("fails the mode check with expected and found when the mode differs", async () => {
    const results = await checkBtrfsVolume(fakeHost({ statPg: ok("nobody nogroup 755\n") }).exec, volume());
    expect(byName(results, "btrfs data/pg: mode 750")).toMatchObject({ status: "fail", expected: "750", found: "755" });
    expect(byName(results, "btrfs data/pg: owner nobody").status).toBe("pass");
  });

  it("accepts a mode written with a leading zero", async () => {
    const v = volume();
    v.subvolumes[0]!.mode = "0750";
    const results = await checkBtrfsVolume(fakeHost().exec, v);
    expect(byName(results, "btrfs data/pg: mode 0750").status).toBe("pass");
  });

  it("fails owner and group checks when ownership differs", async () => {
    const results = await checkBtrfsVolume(fakeHost({ statPg: ok("root postgres 750\n") }).exec, volume());
    expect(byName(results, "btrfs data/pg: owner nobody")).toMatchObject({ status: "fail", expected: "nobody", found: "root" });
    expect(byName(results, "btrfs data/pg: group nogroup")).toMatchObject({ status: "fail", expected: "nogroup", found: "postgres" });
  });

  it("fails the label check when the label differs", async () => {
    const results = await checkBtrfsVolume(fakeHost({ label: ok("other\n") }).exec, volume());
    expect(byName(results, "btrfs data: label sparkdata")).toMatchObject({ status: "fail", expected: "sparkdata", found: "other" });
  });

  it("matches compress=zstd against the kernel's compress=zstd:3, and fails a missing option", async () => {
    const v = volume();
    v.mountOptions = ["compress=zstd", "ssd"];
    const results = await checkBtrfsVolume(fakeHost().exec, v);
    expect(byName(results, "btrfs data: mount option compress=zstd").status).toBe("pass");
    expect(byName(results, "btrfs data: mount option ssd")).toMatchObject({
      status: "fail",
      expected: "ssd",
      found: "rw,noatime,compress=zstd:3,discard=async,space_cache=v2,subvolid=5,subvol=/",
    });
  });

  it("names the form the kernel lists an option in when it fails", async () => {
    const v = volume();
    v.mountOptions = ["compress=zstd:1", "commit=30", "commit=60"];
    const results = await checkBtrfsVolume(fakeHost().exec, v);
    expect(byName(results, "btrfs data: mount option compress=zstd:1")).toMatchObject({ status: "fail", expected: "compress=zstd:1" });
    expect(byName(results, "btrfs data: mount option commit=30")).toMatchObject({ status: "pass" });
    expect(byName(results, "btrfs data: mount option commit=60")).toMatchObject({ status: "fail", expected: "commit=60" });
    v.mountOptions = ["compress=zlib"];
    const zlib = await checkBtrfsVolume(fakeHost().exec, v);
    expect(byName(zlib, "btrfs data: mount option compress=zlib")).toMatchObject({
      status: "fail",
      expected: "compress=zlib (listed as compress=zlib:3)",
      found: "rw,noatime,compress=zstd:3,discard=async,space_cache=v2,subvolid=5,subvol=/",
    });
  });

  it("fails the filesystem check when something else is mounted there", async () => {
    const ext4 = ok(recorded.findmnt.stdout.replace('"fstype": "btrfs"', '"fstype": "ext4"'));
    const results = await checkBtrfsVolume(fakeHost({ findmnt: ext4 }).exec, volume());
    expect(byName(results, "btrfs data: filesystem is btrfs")).toMatchObject({ status: "fail", expected: "btrfs", found: "ext4" });
  });

  it("fails the device check when another device is mounted", async () => {
    const results = await checkBtrfsVolume(fakeHost({ readlink: ok("/dev/loop0\n/dev/loop7\n") }).exec, volume());
    expect(byName(results, "btrfs data: device /dev/loop0")).toMatchObject({ status: "fail", found: "/dev/loop0" });
  });

  it("fails the quota check and every declared limit when quotas are off", async () => {
    const results = await checkBtrfsVolume(fakeHost({ qgroupShow: recorded.qgroupShowQuotasOff }).exec, volume());
    expect(byName(results, "btrfs data: quotas enabled")).toMatchObject({ status: "fail", expected: "enabled", found: "disabled" });
    expect(byName(results, "btrfs data/pg: qgroup limit 104857600 bytes")).toMatchObject({
      status: "fail",
      found: "quotas not enabled",
    });
    expect(byName(results, "btrfs data/cache: no qgroup limit").status).toBe("pass");
  });

  it("passes the quota check when no limit is declared, whether quotas are off or left on", async () => {
    const v = volume();
    v.quotas = false;
    v.subvolumes.forEach((s) => (s.limitBytes = null));
    const off = await checkBtrfsVolume(fakeHost({ qgroupShow: recorded.qgroupShowQuotasOff }).exec, v);
    expect(byName(off, "btrfs data: quotas not required")).toMatchObject({ status: "pass", found: "disabled" });
    expect(byName(off, "btrfs data/pg: no qgroup limit").status).toBe("pass");
    // All limits removed from a protected volume: its quota command is retained, quotas stay on.
    const leftOn = ok(recorded.qgroupShow.stdout.replace("104857600", "     none"));
    const on = await checkBtrfsVolume(fakeHost({ qgroupShow: leftOn }).exec, v);
    expect(on.filter((r) => r.status !== "pass")).toEqual([]);
    expect(byName(on, "btrfs data: quotas not required")).toMatchObject({ status: "pass", found: "enabled (not required)" });
  });

  it("still fails a limit left behind on a subvolume when none is declared and quotas are left on", async () => {
    const v = volume();
    v.quotas = false;
    v.subvolumes.forEach((s) => (s.limitBytes = null));
    const results = await checkBtrfsVolume(fakeHost().exec, v);
    expect(byName(results, "btrfs data: quotas not required").status).toBe("pass");
    expect(byName(results, "btrfs data/pg: no qgroup limit")).toMatchObject({ status: "fail", expected: "none", found: "104857600" });
  });

  it("fails the quota check with the tool's error when quotas cannot be read, required or not", async () => {
    const denied = err(1, "ERROR: can't list qgroups: Operation not permitted\n");
    const v = volume();
    v.quotas = false;
    v.subvolumes.forEach((s) => (s.limitBytes = null));
    const results = await checkBtrfsVolume(fakeHost({ qgroupShow: denied }).exec, v);
    expect(byName(results, "btrfs data: quotas not required")).toMatchObject({
      status: "fail",
      found: "ERROR: can't list qgroups: Operation not permitted",
    });
  });

  it("fails a limit that differs from the qgroup's max_rfer", async () => {
    const v = volume();
    v.subvolumes[0]!.limitBytes = 209715200;
    const results = await checkBtrfsVolume(fakeHost().exec, v);
    expect(byName(results, "btrfs data/pg: qgroup limit 209715200 bytes")).toMatchObject({
      status: "fail",
      expected: "209715200",
      found: "104857600",
    });
  });

  it("fails 'no qgroup limit' when the subvolume has one", async () => {
    const v = volume();
    v.subvolumes[0]!.limitBytes = null;
    const results = await checkBtrfsVolume(fakeHost().exec, v);
    expect(byName(results, "btrfs data/pg: no qgroup limit")).toMatchObject({ status: "fail", expected: "none", found: "104857600" });
  });

  it("fails the subvolume check for a plain directory", async () => {
    const results = await checkBtrfsVolume(fakeHost({ subvolumeShowPg: recorded.subvolumeShowPlainDir }).exec, volume());
    expect(byName(results, "btrfs data/pg: subvolume at /srv/data/pg")).toMatchObject({
      status: "fail",
      expected: "a btrfs subvolume",
      found: "ERROR: Not a Btrfs subvolume: Invalid argument",
    });
  });

  it("fails every check of a missing subvolume with the tools' errors", async () => {
    const results = await checkBtrfsVolume(
      fakeHost({ subvolumeShowPg: recorded.subvolumeShowMissing, statPg: recorded.statMissing }).exec,
      volume(),
    );
    const pg = results.filter((r) => r.name.startsWith("btrfs data/pg:"));
    expect(pg.map((r) => r.status)).toEqual(["fail", "fail", "fail", "fail", "fail"]);
    expect(byName(results, "btrfs data/pg: owner nobody").found).toMatch(/No such file or directory/);
    expect(byName(results, "btrfs data/pg: qgroup limit 104857600 bytes").found).toBe("no such subvolume");
  });

  it("reports 'volume not mounted' for every other check of an unmounted volume", async () => {
    const { exec, commands } = fakeHost({ findmnt: recorded.findmntNotMounted });
    const results = await checkBtrfsVolume(exec, volume());
    expect(results.map((r) => r.name)).toEqual(plannedBtrfsVolumeChecks(volume()).map((c) => c.name));
    expect(results[0]).toMatchObject({ name: "btrfs data: mounted at /srv/data", status: "fail", found: "not mounted" });
    expect(results[1]).toMatchObject({ name: "btrfs data: mounted at boot (srv-data.mount enabled)", status: "pass" });
    expect(results.slice(2).every((r) => r.status === "fail" && r.found === "volume not mounted")).toBe(true);
    expect(byName(results, "btrfs data/pg: mode 750").expected).toBe("750");
    // Only findmnt and the boot check run: nothing else can be read off an unmounted volume.
    expect(commands.map((c) => c.split(" ")[0]).sort()).toEqual(["findmnt", "systemctl"]);
  });

  it("shell-quotes manifest values in remote commands", async () => {
    const v = volume();
    v.subvolumes = [{ name: "odd", path: "/srv/data/it's here", owner: "root", group: "root", mode: "755", limitBytes: null }];
    const { exec, commands } = fakeHost({}, [[/s here'$/, recorded.statMissing]]);
    await checkBtrfsVolume(exec, v);
    expect(commands).toContain(`btrfs subvolume show '/srv/data/it'\\''s here'`);
    expect(commands).toContain(`stat -c '%U %G %a' -- '/srv/data/it'\\''s here'`);
  });

  it("runs btrfs-progs through sudo -n when asked", async () => {
    const { exec, commands } = fakeHost();
    const results = await checkBtrfsVolume(exec, volume(), { sudo: true });
    expect(results.filter((r) => r.status !== "pass")).toEqual([]);
    expect(commands.filter((c) => c.startsWith("btrfs"))).toEqual([]);
    expect(commands).toContain("sudo -n btrfs qgroup show -re --raw /srv/data");
  });
});

describe("btrfs output parsers", () => {
  it("reads findmnt -J, and nothing from an empty answer", () => {
    expect(parseFindmnt(recorded.findmnt.stdout)).toMatchObject({ target: "/srv/data", source: "/dev/loop0", fstype: "btrfs" });
    expect(parseFindmnt("")).toBeUndefined();
  });

  it("reads qgroup rows of btrfs-progs 6.x and of the 5.x layout without a path column", () => {
    const v6 = parseQgroupShow(recorded.qgroupShow.stdout);
    expect([...v6.keys()]).toEqual(["0/5", "0/256", "0/257"]);
    expect(v6.get("0/256")?.maxReferenced).toBe(104857600);
    expect(v6.get("0/257")?.maxReferenced).toBeNull();
    const v5 = parseQgroupShow(
      "qgroupid         rfer         excl     max_rfer     max_excl \n" +
        "--------         ----         ----     --------     -------- \n" +
        "0/5             16384        16384         none         none \n" +
        "0/258           16384        16384   1073741824         none \n",
    );
    expect(v5.get("0/258")?.maxReferenced).toBe(1073741824);
  });

  it("reads the subvolume id and stat fields", () => {
    expect(parseSubvolumeId(recorded.subvolumeShowPg.stdout)).toBe(256);
    expect(parseSubvolumeId("")).toBeUndefined();
    expect(parseStat(recorded.statPg.stdout)).toEqual({ owner: "nobody", group: "nogroup", mode: "750" });
    expect(parseStat("")).toBeUndefined();
  });
});

// findmnt -n -o OPTIONS of a fresh btrfs on a loop device mounted with `-o <key>`, recorded on
// Linux 6.18 (util-linux 2.38.1): the form the kernel lists each option back in.
const tail = "discard=async,space_cache=v2,subvolid=5,subvol=/";
const listed: Record<string, string> = {
  noatime: `rw,noatime,${tail}`,
  relatime: `rw,relatime,${tail}`,
  "noatime,nodiratime": `rw,noatime,nodiratime,${tail}`,
  "noatime,relatime": `rw,noatime,${tail}`,
  lazytime: `rw,relatime,lazytime,${tail}`,
  nodatacow: `rw,relatime,nodatasum,nodatacow,${tail}`,
  nodatasum: `rw,relatime,nodatasum,${tail}`,
  autodefrag: "rw,relatime,discard=async,space_cache=v2,autodefrag,subvolid=5,subvol=/",
  ssd: `rw,relatime,ssd,${tail}`,
  nossd: `rw,relatime,nossd,${tail}`,
  "discard=async": `rw,relatime,${tail}`,
  "space_cache=v2": `rw,relatime,${tail}`,
  "compress=zstd": `rw,relatime,compress=zstd:3,${tail}`,
  "compress=zstd:1": `rw,relatime,compress=zstd:1,${tail}`,
  "compress=zstd:0": `rw,relatime,compress=zstd:3,${tail}`,
  "compress=zstd:05": `rw,relatime,compress=zstd:5,${tail}`,
  "compress=zstd:20": `rw,relatime,compress=zstd:15,${tail}`,
  "compress=zlib": `rw,relatime,compress=zlib:3,${tail}`,
  "compress=zlib:0": `rw,relatime,compress=zlib:3,${tail}`,
  "compress=zlib:15": `rw,relatime,compress=zlib:9,${tail}`,
  "compress=lzo": `rw,relatime,compress=lzo,${tail}`,
  "compress=lzo:5": `rw,relatime,compress=lzo,${tail}`,
  "compress-force=zstd": `rw,relatime,compress-force=zstd:3,${tail}`,
  "compress-force=zstd:0": `rw,relatime,compress-force=zstd:3,${tail}`,
  "compress-force=zlib:4": `rw,relatime,compress-force=zlib:4,${tail}`,
  "compress-force=lzo": `rw,relatime,compress-force=lzo,${tail}`,
  "commit=30": `rw,relatime,${tail}`,
  "commit=0": `rw,relatime,${tail}`,
  "commit=60": "rw,relatime,discard=async,space_cache=v2,commit=60,subvolid=5,subvol=/",
  "commit=030": "rw,relatime,discard=async,space_cache=v2,commit=24,subvolid=5,subvol=/",
  "compress-force=zstd,nodiratime,lazytime,commit=120":
    "rw,nodiratime,relatime,lazytime,compress-force=zstd:3,discard=async,space_cache=v2,commit=120,subvolid=5,subvol=/",
  "compress=zstd,nodatacow": `rw,relatime,nodatasum,nodatacow,${tail}`,
};
const live = (mountedWith: string) => listed[mountedWith]!.split(",");

describe("mount options: declared against what the kernel lists", () => {
  it.each(Object.keys(listed).filter((key) => key !== "noatime,relatime" && key !== "compress=zstd,nodatacow"))(
    "finds every option of a mount with %s",
    (mountedWith) => {
      for (const option of mountedWith.split(",")) expect([option, hasMountOption(live(mountedWith), option)]).toEqual([option, true]);
    },
  );

  it("accepts nodatasum from a mount with nodatacow, which implies it", () => {
    expect(hasMountOption(live("nodatacow"), "nodatasum")).toBe(true);
  });

  it.each([
    ["compress=zstd", "compress-force=zstd"],
    ["compress-force=zstd", "compress=zstd"],
    ["compress=zstd", "compress=zstd:1"],
    ["compress=zstd:1", "compress=zstd"],
    ["compress=zstd:15", "compress=zstd:05"],
    ["compress=zlib", "compress=zstd"],
    ["compress=zlib:9", "compress=zlib"],
    ["compress=lzo", "compress=zstd"],
    ["compress-force=lzo", "compress=lzo"],
    ["commit=30", "commit=60"],
    ["commit=60", "commit=30"],
    ["commit=24", "commit=30"],
    ["nodatacow", "nodatasum"],
    ["noatime", "relatime"],
    ["relatime", "noatime"],
    ["nodiratime", "noatime"],
    ["lazytime", "relatime"],
    ["ssd", "nossd"],
    ["nossd", "ssd"],
    ["autodefrag", "noatime"],
  ])("does not find %s on a mount with %s", (option, mountedWith) => {
    expect(hasMountOption(live(mountedWith), option)).toBe(false);
  });

  it("fails the option the kernel dropped when the declared ones contradict each other", () => {
    // The last of noatime/relatime and of compress/nodatacow wins; config validation must refuse the pair.
    expect(hasMountOption(live("noatime,relatime"), "relatime")).toBe(false);
    expect(hasMountOption(live("compress=zstd,nodatacow"), "compress=zstd")).toBe(false);
  });
});

