import { describe, expect, it } from "vitest";
import { formatReport, summaryLine } from "../../verify/report";
import type { VerifyResult } from "../../verify/types";

const result: VerifyResult = {
  project: "sparks-infra",
  stack: "dev",
  hosts: [
    {
      name: "spark-1",
      target: "root@10.0.0.1:22",
      checks: [
        { name: "ssh host key", status: "pass" },
        { name: "btrfs data/pg: mode 700", status: "fail", expected: "700", found: "755" },
      ],
    },
    {
      name: "spark-2",
      target: "root@10.0.0.2:22",
      checks: [
        { name: "ssh host key", status: "fail", expected: "ssh-ed25519 SHA256:a", found: "ssh-ed25519 SHA256:b" },
        { name: "ssh connect", status: "skip", detail: "host key refused" },
      ],
    },
  ],
  summary: { passed: 1, failed: 2, skipped: 1, rootCauses: 2, unreachable: 0 },
};

describe("formatReport", () => {
  it("prints a heading per host and a mark per check, with expected and found under a failure", () => {
    const lines = formatReport(result).split("\n");
    expect(lines).toContain("spark-1 (root@10.0.0.1:22)");
    expect(lines).toContain("  ✓ ssh host key");
    const failure = lines.indexOf("  ✗ btrfs data/pg: mode 700");
    expect(lines.slice(failure + 1, failure + 3)).toEqual(["      expected: 700", "      found: 755"]);
    expect(lines).toContain("  - ssh connect (skipped: host key refused)");
  });

  it("ends with the closing line CI reads", () => {
    const lines = formatReport(result).trimEnd().split("\n");
    expect(lines.at(-1)).toBe("1 passed, 2 failed, 1 skipped (2 root causes)");
  });
});

describe("summaryLine", () => {
  it("is 'N passed, M failed', with skipped only when some were", () => {
    expect(summaryLine({ passed: 22, failed: 0, skipped: 0, rootCauses: 0, unreachable: 0 })).toBe("22 passed, 0 failed");
    expect(summaryLine({ passed: 0, failed: 1, skipped: 21, rootCauses: 1, unreachable: 0 })).toBe("0 passed, 1 failed, 21 skipped (1 root cause)");
    expect(summaryLine({ passed: 3, failed: 0, skipped: 0, rootCauses: 0, unreachable: 0 })).toMatch(/^\d+ passed, \d+ failed(, \d+ skipped)?$/);
  });

  it("names the root causes and the hosts verify could not reach", () => {
    expect(summaryLine({ passed: 40, failed: 14, skipped: 2, rootCauses: 1, unreachable: 0 })).toBe("40 passed, 14 failed, 2 skipped (1 root cause)");
    expect(summaryLine({ passed: 0, failed: 1, skipped: 30, rootCauses: 1, unreachable: 1 })).toBe("0 passed, 1 failed, 30 skipped (1 root cause, 1 host unreachable)");
  });
});
