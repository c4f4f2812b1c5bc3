import { appendFileSync } from "node:fs";
import { findings } from "./causes";
import type { VerifyResult } from "./types";

/**
 * GitHub Actions workflow commands that put each finding on the run page as an error annotation,
 * its followers counted in the message. https://docs.github.com/actions/reference/workflow-commands-for-github-actions
 */
export function annotations(result: VerifyResult): string[] {
  const lines: string[] = [];
  for (const host of result.hosts) {
    if (host.unreachable !== undefined) {
      lines.push(command(`verify ${result.stack} ${host.name}: unreachable`, `${host.target}: ${host.unreachable}`));
      continue;
    }
    for (const { root, consequences } of findings(host.checks)) {
      const more = consequences.length === 0 ? "" : ` (${consequences.length} more checks fail because of it)`;
      lines.push(command(`verify ${result.stack} ${host.name}: ${root.name}`, `expected: ${root.expected ?? ""}; found: ${root.found ?? ""}${more}`));
    }
  }
  return lines;
}

function command(title: string, message: string): string {
  return `::error title=${escapeProperty(title)}::${escapeData(message)}`;
}

// The escapes of @actions/core's command.ts: data loses %, CR, LF; a property also : and ,.
const escapeData = (value: string) => value.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
const escapeProperty = (value: string) => escapeData(value).replace(/:/g, "%3A").replace(/,/g, "%2C");

/** Appends the markdown report to the job's summary, when the job has one. */
export function writeStepSummary(markdown: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const file = env.GITHUB_STEP_SUMMARY;
  if (file === undefined || file === "") return false;
  appendFileSync(file, markdown);
  return true;
}
