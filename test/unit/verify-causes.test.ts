import { describe, expect, it } from "vitest";
import { findings, withCauses } from "../../verify/causes";
import { annotations } from "../../verify/github";
import type { HostExpectation } from "../../verify/manifest";
import { formatMarkdown } from "../../verify/markdown";
import { formatReport } from "../../verify/report";
import { runHostChecks, summarize } from "../../verify/run";
import type { Exec, ExecResult, HostResult, VerifyResult } from "../../verify/types";

const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: "" });

const host: HostExpectation = {
  name: "spark-1",
  ssh: { address: "10.0.0.1", port: 22, user: "root", hostKey: "ssh-ed25519 AAAA" },
  packages: ["btrfs-progs"],
  btrfsVolumes: [
    {
      name: "data",
      device: "/dev/vdb",
      label: "sparkdata",
      mountpoint: "/srv/sparks",
      mountUnit: "srv-sparks.mount",
      mountOptions: ["noatime"],
      quotas: true,
      subvolumes: [
        { name: "pg", path: "/srv/sparks/pg", owner: "postgres", group: "postgres", mode: "700", limitBytes: 1073741824 },
        { name: "scratch", path: "/srv/sparks/scratch", owner: "root", group: "root", mode: "755", limitBytes: null },
      ],
    },
  ],
  sparkPg: { version: 16, listen: "10.0.0.1", root: { volume: "data", subvolume: "pg" }, clients: [], instances: [{ name: "main" }, { name: "dev", forkOf: "main" }] },
};

/** The host with its volume unmounted, as the tools answer then: the instances are down, `spark-pg status` fails. */
const unmounted: Exec = async (command) => {
  if (command === "systemctl is-system-running") return ok("running\n");
  if (command.startsWith("dpkg-query ")) return ok("btrfs-progs\tinstall ok installed\n");
  if (command.startsWith("findmnt ")) return { code: 1, stdout: "", stderr: "" };
  if (command === "systemctl is-enabled -- srv-sparks.mount") return ok("enabled\n");
  if (command.startsWith("spark-pg status ")) return { code: 1, stdout: "", stderr: "spark-pg: /srv/sparks/pg is not mounted\n" };
  if (command.startsWith("systemctl is-active spark-pg@")) return { code: 3, stdout: "inactive\n", stderr: "" };
  if (command.startsWith("systemctl is-enabled spark-pg@")) return ok("enabled\n");
  throw new Error(`unexpected command: ${command}`);
};

async function unmountedHost(): Promise<HostResult> {
  return { name: host.name, target: "root@10.0.0.1:22", checks: withCauses(host, await runHostChecks(unmounted, host)) };
}

describe("root-cause grouping", () => {
  it("an unmounted volume is one finding: its subvolumes and the instances on them fold under it", async () => {
    const result = await unmountedHost();
    const failed = result.checks.filter((c) => c.status === "fail");
    expect(failed.length).toBeGreaterThan(14);

    const [finding, ...others] = findings(result.checks);
    expect(others).toEqual([]);
    expect(finding?.root.name).toBe("btrfs data: mounted at /srv/sparks");
    expect(finding?.consequences).toHaveLength(failed.length - 1);
    const folded = finding?.consequences.map((c) => c.name);
    expect(folded).toEqual(expect.arrayContaining(["btrfs data/pg: owner postgres", "spark-pg main: active", "spark-pg dev: forked from main", "spark-pg main: accepts its credentials"]));
    // Not a consequence: the mount unit's state does not follow from the mount.
    expect(result.checks.find((c) => c.name === "btrfs data: mounted at boot (srv-sparks.mount enabled)")?.status).toBe("pass");
  });

  it("a failure whose premise passed is a finding of its own, not folded", async () => {
    const checks = withCauses(host, [
      { name: "btrfs data: mounted at /srv/sparks", status: "pass" },
      { name: "btrfs data/pg: subvolume at /srv/sparks/pg", status: "pass" },
      { name: "btrfs data/pg: mode 700", status: "fail", expected: "700", found: "755" },
      { name: "spark-pg main: active", status: "fail", expected: "active", found: "failed" },
      { name: "spark-pg main: accepts its credentials", status: "fail", expected: "select 1 returns 1", found: "connection refused" },
    ]);
    expect(checks[2]?.followsFrom).toBeUndefined();
    expect(findings(checks).map((f) => [f.root.name, f.consequences.map((c) => c.name)])).toEqual([
      ["btrfs data/pg: mode 700", []],
      ["spark-pg main: active", ["spark-pg main: accepts its credentials"]],
    ]);
  });

  it("the report folds the followers under their cause and counts root causes on the closing line", async () => {
    const hostResult = await unmountedHost();
    const result: VerifyResult = { project: "sparks-infra", stack: "dev", hosts: [hostResult], summary: summarize([hostResult]) };
    const lines = formatReport(result).trimEnd().split("\n");
    const root = lines.indexOf("  ✗ btrfs data: mounted at /srv/sparks");
    expect(lines.slice(root + 1, root + 4)).toEqual([
      "      expected: btrfs /dev/vdb mounted at /srv/sparks",
      "      found: not mounted",
      `      ${result.summary.failed - 1} more checks fail because of it:`,
    ]);
    expect(lines).toContain("        ✗ spark-pg main: active");
    expect(lines.filter((l) => l.startsWith("  ✗ "))).toEqual(["  ✗ btrfs data: mounted at /srv/sparks"]);
    expect(lines.at(-1)).toBe(`5 passed, ${result.summary.failed} failed (1 root cause)`);
  });

  it("markdown summary and annotations: one row and one annotation for the finding", async () => {
    const hostResult = await unmountedHost();
    const result: VerifyResult = { project: "sparks-infra", stack: "dev", hosts: [hostResult], summary: summarize([hostResult]) };
    await expect(formatMarkdown(result)).toMatchFileSnapshot("__snapshots__/verify-unmounted.md");
    expect(annotations(result)).toEqual([
      `::error title=verify dev spark-1%3A btrfs data%3A mounted at /srv/sparks::expected: btrfs /dev/vdb mounted at /srv/sparks; found: not mounted (${result.summary.failed - 1} more checks fail because of it)`,
    ]);
  });
});
