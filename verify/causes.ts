import type { BtrfsVolumeExpectation, HostExpectation, ServiceRoot } from "./manifest";
import { btrfsCheckNames, plannedBtrfsVolumeChecks } from "./checks/btrfs-volume";
import { kvmCheckNames } from "./checks/kvm-guest";
import { outsideCheckNames } from "./checks/outside";
import { redisCheckNames } from "./checks/redis";
import { sparkPgCheckNames } from "./checks/spark-pg";
import type { ServiceInstance } from "./checks/service-instance";
import type { CheckResult } from "./types";

/**
 * Which check each check of a host follows from: a check whose premise is another check (a
 * subvolume's owner needs the subvolume, which needs the volume mounted; an instance's login needs
 * the instance running, which needs its root subvolume). Keyed by check name.
 */
export function causeLinks(host: HostExpectation): Map<string, string> {
  const links = new Map<string, string>();
  const link = (names: Iterable<string>, cause: string) => {
    for (const name of names) if (name !== cause) links.set(name, cause);
  };

  for (const volume of host.btrfsVolumes) {
    const mounted = btrfsCheckNames.mounted(volume);
    const atBoot = btrfsCheckNames.atBoot(volume);
    link(plannedBtrfsVolumeChecks(volume).map((c) => c.name).filter((name) => name !== atBoot), mounted);
    for (const s of volume.subvolumes) {
      const n = btrfsCheckNames;
      link([n.owner(volume, s), n.group(volume, s), n.mode(volume, s), n.limit(volume, s)], n.subvolume(volume, s));
    }
  }

  const services = [
    { expectation: host.sparkPg, names: sparkPgCheckNames },
    { expectation: host.redis, names: redisCheckNames },
  ];
  for (const { expectation, names } of services) {
    if (expectation === undefined) continue;
    const root = rootCheck(host.btrfsVolumes, expectation.root);
    for (const instance of expectation.instances) {
      const active = names.active(instance);
      if (root !== undefined) links.set(active, root);
      const followers = (Object.values(names) as unknown[])
        .filter((name): name is InstanceCheckName => typeof name === "function")
        .map((name) => name(instance, expectation.listen))
        .filter((name) => name !== names.enabled(instance));
      link(followers, active);
      const service = expectation === host.sparkPg ? "spark-pg" : "redis";
      const outside = { service, name: instance.name, listen: expectation.listen } as const;
      link([outsideCheckNames.tls(outside), outsideCheckNames.plain(outside), outsideCheckNames.source(outside)], active);
    }
  }

  for (const guest of host.kvm?.guests ?? []) {
    const n = kvmCheckNames;
    link([n.running(guest), n.autostart(guest), n.memory(guest), n.vcpus(guest)], n.defined(guest));
    link([n.userspace(guest), n.nested(guest)], n.running(guest));
  }
  return links;
}

type InstanceCheckName = (instance: ServiceInstance, listen: string) => string;

/** The subvolume check of a service's instance root, when the manifest says where the root is. */
function rootCheck(volumes: BtrfsVolumeExpectation[], root: ServiceRoot | undefined): string | undefined {
  if (root === undefined) return undefined;
  const volume = volumes.find((v) => v.name === root.volume);
  const subvolume = volume?.subvolumes.find((s) => s.name === root.subvolume);
  return volume === undefined || subvolume === undefined ? undefined : btrfsCheckNames.subvolume(volume, subvolume);
}

/** The host's checks, each failed one whose premise failed too marked with that check. */
export function withCauses(host: HostExpectation, checks: CheckResult[]): CheckResult[] {
  const links = causeLinks(host);
  const failed = new Set(checks.filter((c) => c.status === "fail").map((c) => c.name));
  return checks.map((check) => {
    const cause = links.get(check.name);
    return check.status === "fail" && cause !== undefined && failed.has(cause) ? { ...check, followsFrom: cause } : check;
  });
}

/** A failed check no other failure explains, and the failed checks that follow from it. */
export interface Finding {
  root: CheckResult;
  consequences: CheckResult[];
}

/**
 * The failures of one host as findings: each failed check is folded under the failed check it
 * (transitively) follows from; a check whose premise passed is a finding of its own.
 */
export function findings(checks: CheckResult[]): Finding[] {
  const failed = new Map(checks.filter((c) => c.status === "fail").map((c) => [c.name, c]));
  const rootOf = (check: CheckResult): CheckResult => {
    const seen = new Set<string>();
    let current = check;
    while (current.followsFrom !== undefined && !seen.has(current.name)) {
      seen.add(current.name);
      const cause = failed.get(current.followsFrom);
      if (cause === undefined) break;
      current = cause;
    }
    return current;
  };
  const byRoot = new Map<string, Finding>();
  for (const check of failed.values()) {
    const root = rootOf(check);
    const finding = byRoot.get(root.name) ?? { root, consequences: [] };
    if (root !== check) finding.consequences.push(check);
    byRoot.set(root.name, finding);
  }
  return [...byRoot.values()];
}
