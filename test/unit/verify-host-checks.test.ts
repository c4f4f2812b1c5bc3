import { describe, expect, it } from "vitest";
import { checkHost, plannedHostChecks } from "../../verify/checks/host";
import type { HostExpectation } from "../../verify/manifest";
import type { Exec, ExecResult } from "../../verify/types";

const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: "" });

// dpkg-query 1.21 (Debian 12) for `-W -f='${Package}\t${Status}\n' -- btrfs-progs openssh-server postgresql-16`,
// recorded; the config-files line is the form dpkg prints for a removed package that kept its config.
const dpkgRecorded: ExecResult = {
  code: 1,
  stdout: "btrfs-progs\tinstall ok installed\nopenssh-server\tinstall ok installed\n",
  stderr: "dpkg-query: no packages found matching postgresql-16\n",
};
// systemd's formats: `is-system-running` prints the state (exit 1 unless running); `--failed --plain
// --no-legend` prints one unit per line, name first. This machine has no systemd: it prints "offline".
const systemd = {
  running: ok("running\n"),
  degraded: { code: 1, stdout: "degraded\n", stderr: "" },
  offline: { code: 1, stdout: "offline\n", stderr: "" },
  failedUnits: ok(
    "nginx.service          loaded failed failed A high performance web server\n" +
      "spark-pg@main.service  loaded failed failed spark-pg instance main\n",
  ),
};

const host = (packages: string[]): HostExpectation => ({
  name: "spark-1",
  ssh: { address: "10.0.0.1", port: 22, user: "root", hostKey: "ssh-ed25519 AAAA" },
  packages,
  btrfsVolumes: [],
});

function fakeHost(outputs: { system?: ExecResult; dpkg?: ExecResult }) {
  const commands: string[] = [];
  const exec: Exec = async (command) => {
    commands.push(command);
    if (command === "systemctl is-system-running") return outputs.system ?? systemd.running;
    if (command === "systemctl --failed --no-legend --plain") return systemd.failedUnits;
    if (command.startsWith("dpkg-query ")) return outputs.dpkg ?? dpkgRecorded;
    throw new Error(`unexpected command: ${command}`);
  };
  return { exec, commands };
}

describe("checkHost", () => {
  it("passes when systemd is running and every package is installed", async () => {
    const results = await checkHost(fakeHost({}).exec, host(["btrfs-progs", "openssh-server"]));
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ["system running", "pass"],
      ["package btrfs-progs: installed", "pass"],
      ["package openssh-server: installed", "pass"],
    ]);
    expect(results.map((r) => r.name)).toEqual(plannedHostChecks(host(["btrfs-progs", "openssh-server"])).map((c) => c.name));
  });

  it("fails a degraded system, listing the failed units", async () => {
    const [system] = await checkHost(fakeHost({ system: systemd.degraded }).exec, host([]));
    expect(system).toMatchObject({
      name: "system running",
      status: "fail",
      expected: "running",
      found: "degraded; failed units: nginx.service, spark-pg@main.service",
    });
  });

  it("fails a system that is not booted into running, with its state", async () => {
    const [system] = await checkHost(fakeHost({ system: systemd.offline }).exec, host([]));
    expect(system).toMatchObject({ status: "fail", expected: "running", found: "offline" });
  });

  it("fails one check per missing package, and only those", async () => {
    const results = await checkHost(fakeHost({}).exec, host(["btrfs-progs", "openssh-server", "postgresql-16"]));
    expect(results.filter((r) => r.status === "fail")).toEqual([
      {
        name: "package postgresql-16: installed",
        status: "fail",
        expected: "install ok installed",
        found: "not installed (unknown to dpkg)",
      },
    ]);
  });

  it("fails a package that was removed but kept its config", async () => {
    const dpkg = ok("btrfs-progs\tdeinstall ok config-files\n");
    const [, pkg] = await checkHost(fakeHost({ dpkg }).exec, host(["btrfs-progs"]));
    expect(pkg).toMatchObject({ status: "fail", found: "deinstall ok config-files" });
  });

  it("reports dpkg-query's own failure instead of calling packages missing", async () => {
    const dpkg = { code: 127, stdout: "", stderr: "sh: 1: dpkg-query: not found\n" };
    const [, pkg] = await checkHost(fakeHost({ dpkg }).exec, host(["btrfs-progs"]));
    expect(pkg).toMatchObject({ status: "fail", found: "sh: 1: dpkg-query: not found" });
  });

  it("asks dpkg-query about all packages at once, quoted", async () => {
    const { exec, commands } = fakeHost({});
    await checkHost(exec, host(["btrfs-progs", "openssh-server"]));
    expect(commands).toContain("dpkg-query -W '-f=${Package}\\t${Status}\\n' -- btrfs-progs openssh-server");
  });

  it("runs no dpkg-query when no package is expected", async () => {
    const { exec, commands } = fakeHost({});
    await checkHost(exec, host([]));
    expect(commands).toEqual(["systemctl is-system-running"]);
  });
});
