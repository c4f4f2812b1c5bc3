import { posixQuote } from "../../lib/shell-quote";
import type { KvmExpectation, KvmGuestExpectation } from "../manifest";
import type { CheckResult, Exec, PlannedCheck } from "../types";
import { checkKvmHost, plannedKvmHostChecks } from "./kvm-host";
import { commandError, fail, pass, skip } from "./result";

type Guest = KvmGuestExpectation;

export const kvmCheckNames = {
  defined: (g: Guest) => `kvm ${g.name}: defined`,
  running: (g: Guest) => `kvm ${g.name}: running`,
  autostart: (g: Guest) => `kvm ${g.name}: autostart`,
  memory: (g: Guest) => `kvm ${g.name}: memory`,
  vcpus: (g: Guest) => `kvm ${g.name}: vCPUs`,
  userspace: (g: Guest) => `kvm ${g.name}: reached userspace`,
  nested: (g: Guest) => `kvm ${g.name}: /dev/kvm in the guest`,
};

export function plannedKvmChecks(kvm: KvmExpectation): PlannedCheck[] {
  const n = kvmCheckNames;
  return [...plannedKvmHostChecks(kvm), ...kvm.guests.flatMap((g) => [
    { name: n.defined(g), expected: "defined" },
    { name: n.running(g), expected: "running" },
    { name: n.autostart(g), expected: g.autostart ? "enable" : "disable" },
    { name: n.memory(g), expected: `${g.memoryKiB} KiB` },
    { name: n.vcpus(g), expected: String(g.vcpus) },
    { name: n.userspace(g), expected: `readiness line for instance ${g.instanceId}` },
    ...(g.nested ? [{ name: n.nested(g), expected: "present" }] : []),
  ])];
}

/** `virsh dominfo` as field -> value. */
export function parseDominfo(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .split("\n")
      .map((line) => /^([^:]+):\s*(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1].trim(), m[2].trim()]),
  );
}

/** Prints the console log once it holds a readiness line, or as it is after `seconds`. */
export function waitForReadyLine(consoleLog: string, seconds: number): string {
  const log = posixQuote(consoleLog);
  return `end=$(($(date +%s) + ${seconds})); until grep -q '^sparks-ready ' ${log} 2>/dev/null || [ "$(date +%s)" -ge "$end" ]; do sleep 0.5; done; cat ${log}`;
}

/** The last readiness line of the current boot in the console log, as key=value fields. */
export function parseReadyLine(log: string): Record<string, string> | undefined {
  const line = log.split("\n").filter((l) => l.startsWith("sparks-ready ")).pop();
  if (line === undefined) return undefined;
  return Object.fromEntries([...line.matchAll(/(\S+?)=(\S*)/g)].map((m) => [m[1], m[2]]));
}

export async function checkKvm(exec: Exec, kvm: KvmExpectation, options: { sudo?: boolean } = {}): Promise<CheckResult[]> {
  const sudo = options.sudo ? "sudo -n " : "";
  const hostKvm = (await exec("test -c /dev/kvm")).code === 0;
  const results: CheckResult[] = await checkKvmHost(exec, kvm, sudo);
  for (const guest of kvm.guests) results.push(...(await checkGuest(exec, kvm, guest, sudo, hostKvm)));
  return results;
}

async function checkGuest(exec: Exec, kvm: KvmExpectation, g: Guest, sudo: string, hostKvm: boolean): Promise<CheckResult[]> {
  const n = kvmCheckNames;
  const info = await exec(`${sudo}virsh dominfo ${posixQuote(g.name)}`);
  if (info.code !== 0) {
    const why = commandError(info);
    return plannedKvmChecks({ ...kvm, guests: [g] }).map((c) => (c.name === n.defined(g) ? fail(c.name, "defined", why) : skip(c.name, "domain not defined")));
  }
  const fields = parseDominfo(info.stdout);
  const results: CheckResult[] = [pass(n.defined(g), fields.UUID)];
  const equal = (name: string, expected: string, found: string | undefined) =>
    results.push(found === expected ? pass(name, found) : fail(name, expected, found ?? "(absent)"));
  equal(n.running(g), "running", fields.State);
  equal(n.autostart(g), g.autostart ? "enable" : "disable", fields.Autostart);
  equal(n.memory(g), `${g.memoryKiB} KiB`, fields["Max memory"]);
  equal(n.vcpus(g), String(g.vcpus), fields["CPU(s)"]);
  // Right after a deploy the guest may still be booting: a running guest gets its boot time.
  const wait = fields.State === "running" ? kvm.bootSeconds : 0;
  const log = await exec(`${sudo}sh -c ${posixQuote(waitForReadyLine(g.consoleLog, wait))}`);
  const ready = log.code === 0 ? parseReadyLine(log.stdout) : undefined;
  if (ready === undefined) {
    results.push(fail(n.userspace(g), `readiness line for instance ${g.instanceId}`, log.code === 0 ? "no readiness line in the console log" : commandError(log)));
  } else {
    equal(n.userspace(g), g.instanceId, ready["instance-id"]);
  }
  if (g.nested) {
    if (!hostKvm || kvm.domainType !== "kvm") {
      results.push(skip(n.nested(g), hostKvm ? "domain type qemu (TCG) offers no nested KVM" : "the host has no /dev/kvm: guests run under TCG"));
    } else {
      equal(n.nested(g), "present", ready?.kvm);
    }
  }
  return results;
}
