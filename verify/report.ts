import { type Finding, findings } from "./causes";
import type { CheckResult, HostResult, Summary, VerifyResult } from "./types";

const MARK = { pass: "✓", fail: "✗", skip: "-" } as const;

/**
 * The human report: a heading per host and a line per check, expected/found under each failure.
 * A failure that follows from another is not listed on its own: it is folded under that one.
 */
export function formatReport(result: VerifyResult): string {
  const lines = [`verify ${result.project}/${result.stack}: ${result.hosts.length} host${result.hosts.length === 1 ? "" : "s"}`];
  for (const host of result.hosts) lines.push("", ...formatHost(host));
  lines.push("", summaryLine(result.summary));
  return `${lines.join("\n")}\n`;
}

function formatHost(host: HostResult): string[] {
  const byRoot = new Map(findings(host.checks).map((f) => [f.root.name, f]));
  const folded = new Set([...byRoot.values()].flatMap((f) => f.consequences.map((c) => c.name)));
  const heading = `${host.name} (${host.target})${host.unreachable === undefined ? "" : `: unreachable, ${host.unreachable}`}`;
  return [heading, ...host.checks.filter((c) => !folded.has(c.name)).flatMap((c) => formatCheck(c, byRoot.get(c.name)))];
}

function formatCheck(check: CheckResult, finding: Finding | undefined): string[] {
  if (check.status === "skip") return [`  ${MARK.skip} ${check.name} (skipped: ${check.detail ?? "not run"})`];
  const lines = [`  ${MARK[check.status]} ${check.name}${attemptsText(check)}`];
  if (check.status === "fail") {
    lines.push(field("expected", check.expected ?? ""), field("found", check.found ?? ""));
    if (check.detail !== undefined) lines.push(field("detail", check.detail));
    const consequences = finding?.consequences ?? [];
    if (consequences.length > 0) {
      lines.push(`      ${consequences.length} more check${consequences.length === 1 ? "" : "s"} fail${consequences.length === 1 ? "s" : ""} because of it:`);
      lines.push(...consequences.map((c) => `        ${MARK.fail} ${c.name}`));
    }
  }
  return lines;
}

/** How many runs `--wait` took, where that says something: more than one. */
export function attemptsText(check: CheckResult): string {
  if (check.attempts === undefined || check.attempts < 2) return "";
  return check.status === "pass" ? ` (passed on attempt ${check.attempts})` : ` (failed all ${check.attempts} attempts)`;
}

function field(label: string, value: string): string {
  return `      ${label}: ${value.replace(/\n/g, `\n${" ".repeat(label.length + 8)}`)}`;
}

/**
 * `N passed, M failed`, plus `, K skipped` when any were, then the root causes and unreachable
 * hosts when there are any: the closing line CI reads.
 */
export function summaryLine(summary: Summary): string {
  let line = `${summary.passed} passed, ${summary.failed} failed`;
  if (summary.skipped > 0) line += `, ${summary.skipped} skipped`;
  const more: string[] = [];
  if (summary.failed > 0) more.push(`${summary.rootCauses} root cause${summary.rootCauses === 1 ? "" : "s"}`);
  if (summary.unreachable > 0) more.push(`${summary.unreachable} host${summary.unreachable === 1 ? "" : "s"} unreachable`);
  return more.length === 0 ? line : `${line} (${more.join(", ")})`;
}
