import type { CheckResult, HostResult, Summary, VerifyResult } from "./types";

const MARK = { pass: "✓", fail: "✗", skip: "-" } as const;

/** The human report: a heading per host, a line per check, expected/found under each failure. */
export function formatReport(result: VerifyResult): string {
  const lines = [`verify ${result.project}/${result.stack}: ${result.hosts.length} host${result.hosts.length === 1 ? "" : "s"}`];
  for (const host of result.hosts) lines.push("", ...formatHost(host));
  lines.push("", summaryLine(result.summary));
  return `${lines.join("\n")}\n`;
}

function formatHost(host: HostResult): string[] {
  return [`${host.name} (${host.target})`, ...host.checks.flatMap(formatCheck)];
}

function formatCheck(check: CheckResult): string[] {
  if (check.status === "skip") return [`  ${MARK.skip} ${check.name} (skipped: ${check.detail ?? "not run"})`];
  const lines = [`  ${MARK[check.status]} ${check.name}`];
  if (check.status === "fail") {
    lines.push(field("expected", check.expected ?? ""), field("found", check.found ?? ""));
    if (check.detail !== undefined) lines.push(field("detail", check.detail));
  }
  return lines;
}

function field(label: string, value: string): string {
  return `      ${label}: ${value.replace(/\n/g, `\n${" ".repeat(label.length + 8)}`)}`;
}

/** `N passed, M failed`, plus `, K skipped` when any were: the closing line CI reads. */
export function summaryLine(summary: Summary): string {
  const line = `${summary.passed} passed, ${summary.failed} failed`;
  return summary.skipped > 0 ? `${line}, ${summary.skipped} skipped` : line;
}
