import { posixQuote } from "../../lib/shell-quote";
import type { KvmExpectation, KvmSettingExpectation } from "../manifest";
import type { CheckResult, Exec, PlannedCheck } from "../types";
import { commandError, fail, pass } from "./result";

export const kvmHostCheckNames = {
  // Not "active": libvirtd exits when idle (--timeout) with no guest running, and its socket starts it again.
  libvirtd: "kvm host: libvirtd enabled at boot",
  setting: (s: KvmSettingExpectation) => `kvm host: ${s.file} ${s.key}`,
};

export function plannedKvmHostChecks(kvm: KvmExpectation): PlannedCheck[] {
  return [
    { name: kvmHostCheckNames.libvirtd, expected: "enabled" },
    ...kvm.settings.map((s) => ({ name: kvmHostCheckNames.setting(s), expected: s.value })),
  ];
}

/** The value of the last uncommented `key = value` (qemu.conf) or `KEY=value` (shell) line: the one that counts. */
export function settingValue(content: string, key: string): string | undefined {
  const line = new RegExp(`^\\s*${key.replace(/[^\w]/g, "\\$&")}\\s*=\\s*(.*?)\\s*$`);
  return content
    .split("\n")
    .map((l) => line.exec(l)?.[1])
    .filter((v): v is string => v !== undefined)
    .pop();
}

/** libvirtd, and the settings the deploy writes into qemu.conf and /etc/default/libvirt-guests. */
export async function checkKvmHost(exec: Exec, kvm: KvmExpectation, sudo: string): Promise<CheckResult[]> {
  const n = kvmHostCheckNames;
  const results: CheckResult[] = [];
  const unit = await exec("systemctl is-enabled libvirtd.service");
  const state = unit.stdout.trim();
  results.push(state === "enabled" ? pass(n.libvirtd, state) : fail(n.libvirtd, "enabled", state || commandError(unit)));
  const files = [...new Set(kvm.settings.map((s) => s.file))];
  for (const file of files) {
    const read = await exec(`${sudo}cat ${posixQuote(file)}`);
    for (const s of kvm.settings.filter((x) => x.file === file)) {
      if (read.code !== 0) {
        results.push(fail(n.setting(s), s.value, commandError(read)));
        continue;
      }
      const found = settingValue(read.stdout, s.key);
      results.push(found === s.value ? pass(n.setting(s), found) : fail(n.setting(s), s.value, found ?? "(not set)"));
    }
  }
  return results;
}
