import type { HostExpectation } from "../manifest";
import { command } from "../../lib/shell-quote";
import type { CheckResult, Exec, PlannedCheck } from "../types";
import { commandError, fail, pass } from "./result";

const INSTALLED = "install ok installed";

export const hostCheckNames = {
  system: "system running",
  package: (pkg: string) => `package ${pkg}: installed`,
};

/** Every check `checkHost` reports, in order, with what each expects. */
export function plannedHostChecks(host: HostExpectation): PlannedCheck[] {
  return [
    { name: hostCheckNames.system, expected: "running" },
    ...host.packages.map((pkg) => ({ name: hostCheckNames.package(pkg), expected: INSTALLED })),
  ];
}

/** Host-wide state: systemd reached `running`, and every expected Debian package is installed. */
export async function checkHost(exec: Exec, host: HostExpectation): Promise<CheckResult[]> {
  const [system, packages] = await Promise.all([checkSystemRunning(exec), checkPackages(exec, host.packages)]);
  return [system, ...packages];
}

async function checkSystemRunning(exec: Exec): Promise<CheckResult> {
  const name = hostCheckNames.system;
  const result = await exec("systemctl is-system-running");
  const state = result.stdout.trim();
  if (result.code === 0 && state === "running") return pass(name, state);
  if (state === "") return fail(name, "running", commandError(result));
  if (state !== "degraded") return fail(name, "running", state);
  const failed = await exec("systemctl --failed --no-legend --plain");
  const units = failed.stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[0])
    .filter((unit): unit is string => unit !== undefined && unit !== "");
  return fail(name, "running", units.length > 0 ? `degraded; failed units: ${units.join(", ")}` : "degraded");
}

async function checkPackages(exec: Exec, packages: string[]): Promise<CheckResult[]> {
  if (packages.length === 0) return [];
  // One query for all packages: dpkg-query prints a line per known package and exits 1 when any is unknown.
  const result = await exec(command("dpkg-query", "-W", "-f=${Package}\\t${Status}\\n", "--", ...packages));
  const statuses = new Map<string, string>();
  for (const line of result.stdout.split("\n")) {
    const [pkg, status] = line.split("\t");
    if (pkg === undefined || status === undefined) continue;
    // A multiarch package has a line per architecture; one installed copy is enough.
    if (statuses.get(pkg) !== INSTALLED) statuses.set(pkg, status.trim());
  }
  const queryFailed = result.code === null || (result.code !== 0 && !/no packages found/.test(result.stderr));
  return packages.map((pkg) => {
    const name = hostCheckNames.package(pkg);
    const status = statuses.get(pkg);
    if (status === INSTALLED) return pass(name, status);
    if (status !== undefined) return fail(name, INSTALLED, status);
    return fail(name, INSTALLED, queryFailed ? commandError(result) : "not installed (unknown to dpkg)");
  });
}
