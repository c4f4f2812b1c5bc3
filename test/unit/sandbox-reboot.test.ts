import { describe, expect, it } from "vitest";
import { parseCli } from "../../sandbox/cli-args";
import { loopsBackedBy, parseLoopList } from "../../sandbox/disk";
import { SandboxError } from "../../sandbox/log";
import { overlayAt, parseMountinfo } from "../../sandbox/mounts";

function usageError(argv: string[]): SandboxError {
  try {
    parseCli(argv);
  } catch (e) {
    return e as SandboxError;
  }
  throw new Error(`parseCli(${JSON.stringify(argv)}) did not refuse`);
}

describe("sandbox command line", () => {
  it("takes reboot like the other commands, with --state-dir", () => {
    expect(parseCli(["reboot", "--state-dir", "/tmp/s"])).toEqual({ help: false, command: "reboot", stateDir: "/tmp/s", diskSize: undefined, rebuild: false, json: false });
    expect(parseCli(["up", "--disk-size", "8G", "--rebuild"])).toMatchObject({ command: "up", diskSize: "8G", rebuild: true });
    expect(parseCli(["status", "--json"])).toMatchObject({ command: "status", json: true });
  });

  it("answers --help without a command", () => {
    expect(parseCli(["-h"])).toEqual({ help: true });
    expect(parseCli(["reboot", "--help"])).toEqual({ help: true });
  });

  it.each([[[]], [["reboot", "now"]], [["restart"]], [["reboot", "--force"]]])("refuses %j with exit code 2", (argv) => {
    const e = usageError(argv);
    expect(e).toBeInstanceOf(SandboxError);
    expect(e.exitCode).toBe(2);
  });

  it("names the commands when one is unknown", () => {
    expect(usageError(["restart"]).message).toBe('unknown command "restart": expected up, down, reboot or status');
  });
});

describe("the loop device a reboot re-uses", () => {
  const list = JSON.stringify({
    loopdevices: [
      { name: "/dev/loop0", "back-file": "/w/.sandbox-a/disk-vdb.img" },
      { name: "/dev/loop1", "back-file": "/w/.sandbox-b/disk-vdb.img (deleted)" },
      { name: "/dev/loop2", "back-file": null },
      { name: "/dev/loop3", "back-file": "/w/.sandbox-b/disk-vdb.img" },
    ],
  });

  it("reads losetup's list, marking deleted backing files", () => {
    expect(parseLoopList(list)).toEqual([
      { name: "/dev/loop0", backFile: "/w/.sandbox-a/disk-vdb.img", deleted: false },
      { name: "/dev/loop1", backFile: "/w/.sandbox-b/disk-vdb.img", deleted: true },
      { name: "/dev/loop2", backFile: "", deleted: false },
      { name: "/dev/loop3", backFile: "/w/.sandbox-b/disk-vdb.img", deleted: false },
    ]);
    expect(parseLoopList("")).toEqual([]);
  });

  it("is one backed by the image as it is now, never one whose image was deleted", () => {
    const loops = parseLoopList(list);
    expect(loopsBackedBy(loops, "/w/.sandbox-b/disk-vdb.img")).toEqual(["/dev/loop3"]);
    expect(loopsBackedBy(loops, "/w/.sandbox-a/disk-vdb.img")).toEqual(["/dev/loop0"]);
    expect(loopsBackedBy(loops, "/w/.sandbox-a")).toEqual([]);
    expect(loopsBackedBy(loops, "/w/.sandbox-c/disk-vdb.img")).toEqual([]);
  });
});

describe("the root overlay a reboot re-uses", () => {
  const mounts = parseMountinfo(
    [
      "30 1 0:27 / /w/.sandbox-a/root rw,relatime - overlay overlay rw,lowerdir=/var/cache/sparks-sandbox/rootfs-x,upperdir=/w/.sandbox-a/upper,workdir=/w/.sandbox-a/work",
      "31 30 7:0 / /w/.sandbox-a/root/srv/sparks rw,noatime - btrfs /dev/loop0 rw",
      "32 1 0:28 / /w/.sandbox-b/root rw,relatime - tmpfs tmpfs rw",
    ].join("\n"),
  );

  it("is the overlay mounted at the root itself", () => {
    expect(overlayAt("/w/.sandbox-a/root", mounts)?.superOptions).toContain("upperdir=/w/.sandbox-a/upper");
    expect(overlayAt("/w/.sandbox-a/root/srv/sparks", mounts)).toBeUndefined();
    expect(overlayAt("/w/.sandbox-b/root", mounts)).toBeUndefined();
  });
});
