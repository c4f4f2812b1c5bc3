import { findings } from "./causes";
import { attemptsText } from "./report";
import { summarize } from "./run";
import type { HostResult, VerifyResult } from "./types";

/** Checks listed per host before the rest is cut to a count: a step summary stays well under GitHub's 1 MiB. */
const MAX_HOST_LINES = 200;
const MAX_CELL = 300;
const MARK = { pass: "✅", fail: "❌", skip: "⏭️" } as const;

/**
 * The report for a pull request or a run page: a table of findings (each failure no other failure
 * explains, with the count of checks that fail because of it), then every host's checks folded away.
 */
export function formatMarkdown(result: VerifyResult): string {
  const { summary } = result;
  const ok = summary.failed === 0 && summary.unreachable === 0;
  const lines = [`### ${ok ? MARK.pass : MARK.fail} verify ${result.project}/${result.stack}: ${headline(result)}`, ""];
  const rows = result.hosts.flatMap((host) =>
    findings(host.checks).map((f) => [host.name, f.root.name + attemptsText(f.root), f.root.expected ?? "", f.root.found ?? "", followers(f.consequences.length)]),
  );
  if (rows.length > 0) {
    lines.push("| Host | Failed check | Expected | Found | Also failing because of it |", "| --- | --- | --- | --- | --- |");
    lines.push(...rows.map((row) => `| ${row.map(cell).join(" | ")} |`), "");
  }
  for (const host of result.hosts) lines.push(...hostDetails(host), "");
  return `${lines.join("\n").trimEnd()}\n`;
}

function headline(result: VerifyResult): string {
  const { summary } = result;
  const hosts = `${result.hosts.length} host${result.hosts.length === 1 ? "" : "s"}`;
  if (summary.failed === 0 && summary.unreachable === 0) return `${summary.passed} checks passed on ${hosts}`;
  const parts = [`${summary.rootCauses} finding${summary.rootCauses === 1 ? "" : "s"} (${summary.failed} failed checks)`];
  if (summary.unreachable > 0) parts.push(`${summary.unreachable} of ${hosts} unreachable`);
  parts.push(`${summary.passed} passed`);
  return parts.join(", ");
}

const followers = (count: number) => (count === 0 ? "" : `${count} more check${count === 1 ? "" : "s"}`);

function hostDetails(host: HostResult): string[] {
  const { passed, failed, skipped } = summarize([host]);
  const state = host.unreachable === undefined ? `${passed} passed, ${failed} failed, ${skipped} skipped` : `unreachable: ${host.unreachable}`;
  const shown = host.checks.slice(0, MAX_HOST_LINES).map((c) => `- ${MARK[c.status]} ${inline(c.name)}${inline(attemptsText(c))}${c.status === "skip" ? ` (${inline(c.detail ?? "not run")})` : ""}`);
  const cut = host.checks.length - shown.length;
  return [
    `<details><summary>${escapeHtml(host.name)} (${escapeHtml(host.target)}): ${escapeHtml(state)}</summary>`,
    "",
    ...shown,
    ...(cut > 0 ? [`- … ${cut} more checks (see the JUnit report)`] : []),
    "",
    "</details>",
  ];
}

/** A table cell: one line, pipes escaped, long values cut. */
function cell(value: string): string {
  const line = inline(value).replace(/\|/g, "\\|");
  return line.length > MAX_CELL ? `${line.slice(0, MAX_CELL)}…` : line;
}

const inline = (value: string) => escapeHtml(value.replace(/\s*\n\s*/g, " "));

const escapeHtml = (value: string) => value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
