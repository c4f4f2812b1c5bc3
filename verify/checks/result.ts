import type { CheckResult, ExecResult } from "../types";

export const pass = (name: string, found?: string): CheckResult =>
  found === undefined ? { name, status: "pass" } : { name, status: "pass", found };

export const fail = (name: string, expected: string, found: string, detail?: string): CheckResult =>
  detail === undefined ? { name, status: "fail", expected, found } : { name, status: "fail", expected, found, detail };

export const skip = (name: string, reason: string): CheckResult => ({ name, status: "skip", detail: reason });

/** The one-line reason a command failed, as the tool put it. */
export function commandError(result: ExecResult): string {
  const line = result.stderr
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l !== "");
  if (line !== undefined) return line;
  return result.code === null ? "command did not finish" : `exit code ${result.code}`;
}
