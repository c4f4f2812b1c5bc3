import { describe, expect, it } from "vitest";
import { execFile, execFileSync } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { checkKvm, parseDominfo, parseReadyLine, waitForReadyLine } from "../../verify/checks/kvm-guest";
import { settingValue } from "../../verify/checks/kvm-host";
import type { KvmExpectation } from "../../verify/manifest";
import type { Exec } from "../../verify/types";

const DOMINFO = `Id:             1
Name:           g1
UUID:           59190a61-4bb3-4c83-b45f-21926a5358e5
OS Type:        hvm
State:          running
CPU(s):         1
Max memory:     262144 KiB
Used memory:    262144 KiB
Autostart:      enable
`;
const READY = "[    0.1] boot\nsparks-ready instance-id=g1-tiny-abc hostname=g1 disk-bytes=1073741824 kvm=absent base=[x]\n";

const kvm = (nested: boolean, domainType: "kvm" | "qemu" = "qemu"): KvmExpectation => ({
  domainType,
  bootSeconds: 7,
  settings: [],
  guests: [{ name: "g1", vcpus: 1, memoryKiB: 262144, autostart: true, nested, consoleLog: "/srv/g1/console.log", instanceId: "g1-tiny-abc" }],
});

function fakeHost(answers: { dominfo?: string; log?: string; devKvm?: boolean; libvirtd?: string; files?: Record<string, string> }, commands: string[] = []): Exec {
  return async (command) => {
    commands.push(command);
    if (command.startsWith("systemctl is-enabled libvirtd")) return { code: 0, stdout: answers.libvirtd ?? "enabled\n", stderr: "" };
    for (const [file, content] of Object.entries(answers.files ?? {})) {
      if (command === `cat ${file}`) return { code: 0, stdout: content, stderr: "" };
    }
    if (command.startsWith("test -c /dev/kvm")) return { code: answers.devKvm ? 0 : 1, stdout: "", stderr: "" };
    if (command.includes("virsh dominfo")) {
      return answers.dominfo === undefined ? { code: 1, stdout: "", stderr: "error: failed to get domain 'g1'" } : { code: 0, stdout: answers.dominfo, stderr: "" };
    }
    if (command.includes("cat ")) return { code: 0, stdout: answers.log ?? "", stderr: "" };
    return { code: 127, stdout: "", stderr: `unexpected: ${command}` };
  };
}

describe("kvm verify checks", () => {
  it("parses virsh dominfo and the readiness line", () => {
    expect(parseDominfo(DOMINFO)).toMatchObject({ State: "running", "CPU(s)": "1", "Max memory": "262144 KiB", Autostart: "enable" });
    expect(parseReadyLine(READY)).toMatchObject({ "instance-id": "g1-tiny-abc", kvm: "absent" });
    expect(parseReadyLine("[ 0.1] boot\n")).toBeUndefined();
  });

  it("passes a running guest as declared, and skips nested KVM with the reason on a host without /dev/kvm", async () => {
    const results = await checkKvm(fakeHost({ dominfo: DOMINFO, log: READY }), kvm(true));
    expect(results.map((r) => `${r.status} ${r.name}`)).toEqual([
      "pass kvm host: libvirtd enabled at boot",
      "pass kvm g1: defined",
      "pass kvm g1: running",
      "pass kvm g1: autostart",
      "pass kvm g1: memory",
      "pass kvm g1: vCPUs",
      "pass kvm g1: reached userspace",
      "skip kvm g1: /dev/kvm in the guest",
    ]);
    expect(results[7].detail).toBe("the host has no /dev/kvm: guests run under TCG");
  });

  it("fails what differs: stopped, other memory, no readiness line, no /dev/kvm in a nested guest on a KVM host", async () => {
    const dominfo = DOMINFO.replace("running", "shut off").replace("Max memory:     262144", "Max memory:     131072");
    const results = await checkKvm(fakeHost({ dominfo, log: READY.replace("kvm=absent", "kvm=absent"), devKvm: true }), kvm(true, "kvm"));
    const failed = results.filter((r) => r.status === "fail").map((r) => r.name);
    expect(failed).toEqual(["kvm g1: running", "kvm g1: memory", "kvm g1: /dev/kvm in the guest"]);
    const noLine = await checkKvm(fakeHost({ dominfo: DOMINFO, log: "[ 0.1] boot\n" }), kvm(false));
    expect(noLine.find((r) => r.name === "kvm g1: reached userspace")).toMatchObject({ status: "fail", found: "no readiness line in the console log" });
  });

  it("gives a running guest bootSeconds to print its readiness line, and a stopped one none", async () => {
    const running: string[] = [];
    await checkKvm(fakeHost({ dominfo: DOMINFO, log: READY }, running), kvm(false));
    expect(running.find((c) => c.includes("console.log"))).toContain("+ 7))");
    const stopped: string[] = [];
    await checkKvm(fakeHost({ dominfo: DOMINFO.replace("running", "shut off"), log: READY }, stopped), kvm(false));
    expect(stopped.find((c) => c.includes("console.log"))).toContain("+ 0))");
  });

  it("the wait returns as soon as the readiness line appears, and the log as it is when time is up", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "kvm-ready-"));
    const log = path.join(dir, "console.log");
    try {
      writeFileSync(log, "[ 0.1] boot\n");
      expect(execFileSync("sh", ["-c", waitForReadyLine(log, 0)], { encoding: "utf8" })).toBe("[ 0.1] boot\n");
      setTimeout(() => appendFileSync(log, READY), 300);
      const waited = await new Promise<string>((resolve, reject) =>
        execFile("sh", ["-c", waitForReadyLine(log, 30)], { encoding: "utf8" }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
      );
      expect(parseReadyLine(waited)).toMatchObject({ "instance-id": "g1-tiny-abc" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("checks libvirtd and the settings written into libvirt's files: the last uncommented line counts", async () => {
    const settings = [
      { file: "/etc/libvirt/qemu.conf", key: "cgroup_controllers", value: "[ ]" },
      { file: "/etc/default/libvirt-guests", key: "ON_SHUTDOWN", value: "shutdown" },
      { file: "/etc/default/libvirt-guests", key: "SHUTDOWN_TIMEOUT", value: "3" },
    ];
    const files = {
      "/etc/libvirt/qemu.conf": '#cgroup_controllers = [ "cpu" ]\n# --- managed by sparks ---\ncgroup_controllers = [ ]\n',
      "/etc/default/libvirt-guests": "ON_SHUTDOWN=suspend\n#SHUTDOWN_TIMEOUT=300\nON_SHUTDOWN=shutdown\n",
    };
    const results = await checkKvm(fakeHost({ dominfo: DOMINFO, log: READY, files, libvirtd: "disabled\n" }), { ...kvm(false), settings });
    expect(results.slice(0, 4).map((r) => [r.status, r.name, r.found])).toEqual([
      ["fail", "kvm host: libvirtd enabled at boot", "disabled"],
      ["pass", "kvm host: /etc/libvirt/qemu.conf cgroup_controllers", "[ ]"],
      ["pass", "kvm host: /etc/default/libvirt-guests ON_SHUTDOWN", "shutdown"],
      ["fail", "kvm host: /etc/default/libvirt-guests SHUTDOWN_TIMEOUT", "(not set)"],
    ]);
    expect(settingValue("a = 1\n  a=2 \n#a = 3\n", "a")).toBe("2");
  });

  it("fails 'defined' and skips the rest when the domain does not exist", async () => {
    const results = (await checkKvm(fakeHost({}), kvm(false))).filter((r) => r.name.startsWith("kvm g1:"));
    expect(results[0]).toMatchObject({ name: "kvm g1: defined", status: "fail" });
    expect(results.slice(1).every((r) => r.status === "skip")).toBe(true);
  });
});
