import junitReportBuilder from "junit-report-builder";
import type { CheckResult, VerifyResult } from "./types";

/** JUnit XML: one testsuite per host, one testcase per check. */
export function toJUnitXml(result: VerifyResult): string {
  return buildReport(result).build();
}

export function writeJUnit(result: VerifyResult, file: string): void {
  buildReport(result).writeTo(file);
}

function buildReport(result: VerifyResult) {
  const builder = junitReportBuilder.newBuilder();
  builder.name(`verify ${result.project}/${result.stack}`);
  for (const host of result.hosts) {
    const suite = builder.testSuite().name(host.name).property("target", host.target);
    for (const check of host.checks) {
      const testCase = suite.testCase().className(`verify.${host.name}`).name(check.name);
      if (check.status === "fail") testCase.failure(failureMessage(check), "CheckFailed");
      if (check.status === "skip") testCase.skipped().standardOutput(`not run: ${check.detail ?? "skipped"}`);
    }
  }
  return builder;
}

export function failureMessage(check: CheckResult): string {
  let message = `expected: ${check.expected ?? ""}; found: ${check.found ?? ""}`;
  if (check.detail !== undefined) message += ` (${check.detail})`;
  if (check.followsFrom !== undefined) message += `; follows from the failed check "${check.followsFrom}"`;
  if (check.attempts !== undefined && check.attempts > 1) message += `; failed all ${check.attempts} attempts`;
  return message;
}
