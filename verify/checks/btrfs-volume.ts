import type { BtrfsVolumeExpectation, SubvolumeExpectation } from "../manifest";
import { command } from "../../lib/shell-quote";
import type { CheckResult, Exec, ExecResult, PlannedCheck } from "../types";
import {
  hasMountOption,
  kernelMountOption,
  type Mount,
  parseFindmnt,
  parseQgroupShow,
  parseStat,
  parseSubvolumeId,
  type Qgroup,
  sameMode,
} from "./btrfs-output";
import { commandError, fail, pass } from "./result";

type Volume = BtrfsVolumeExpectation;
type Subvolume = SubvolumeExpectation;

export const btrfsCheckNames = {
  mounted: (v: Volume) => `btrfs ${v.name}: mounted at ${v.mountpoint}`,
  atBoot: (v: Volume) => `btrfs ${v.name}: mounted at boot (${v.mountUnit} enabled)`,
  device: (v: Volume) => `btrfs ${v.name}: device ${v.device}`,
  fstype: (v: Volume) => `btrfs ${v.name}: filesystem is btrfs`,
  label: (v: Volume) => `btrfs ${v.name}: label ${v.label}`,
  mountOption: (v: Volume, option: string) => `btrfs ${v.name}: mount option ${option}`,
  quotas: (v: Volume) => `btrfs ${v.name}: quotas ${v.quotas ? "enabled" : "not required"}`,
  subvolume: (v: Volume, s: Subvolume) => `btrfs ${v.name}/${s.name}: subvolume at ${s.path}`,
  owner: (v: Volume, s: Subvolume) => `btrfs ${v.name}/${s.name}: owner ${s.owner}`,
  group: (v: Volume, s: Subvolume) => `btrfs ${v.name}/${s.name}: group ${s.group}`,
  mode: (v: Volume, s: Subvolume) => `btrfs ${v.name}/${s.name}: mode ${s.mode}`,
  limit: (v: Volume, s: Subvolume) =>
    `btrfs ${v.name}/${s.name}: ${s.limitBytes === null ? "no qgroup limit" : `qgroup limit ${s.limitBytes} bytes`}`,
};

const NOT_MOUNTED = "volume not mounted";

export interface BtrfsCheckOptions {
  /** Run btrfs-progs through `sudo -n`: its tree-search ioctls need root. Default false. */
  sudo?: boolean;
}

/** Every check `checkBtrfsVolume` reports for `volume`, in order, with what each expects. */
export function plannedBtrfsVolumeChecks(volume: Volume): PlannedCheck[] {
  const n = btrfsCheckNames;
  return [
    { name: n.mounted(volume), expected: `btrfs ${volume.device} mounted at ${volume.mountpoint}` },
    { name: n.atBoot(volume), expected: "enabled" },
    { name: n.device(volume), expected: volume.device },
    { name: n.fstype(volume), expected: "btrfs" },
    { name: n.label(volume), expected: volume.label },
    ...volume.mountOptions.map((o) => ({ name: n.mountOption(volume, o), expected: mountOptionExpected(o) })),
    { name: n.quotas(volume), expected: quotasExpected(volume) },
    ...volume.subvolumes.flatMap((s) => [
      { name: n.subvolume(volume, s), expected: "a btrfs subvolume" },
      { name: n.owner(volume, s), expected: s.owner },
      { name: n.group(volume, s), expected: s.group },
      { name: n.mode(volume, s), expected: s.mode },
      { name: n.limit(volume, s), expected: limitText(s.limitBytes) },
    ]),
  ];
}

/** Everything one `BtrfsVolumeExpectation` declares, in the order of `plannedBtrfsVolumeChecks`. */
export async function checkBtrfsVolume(exec: Exec, volume: Volume, options: BtrfsCheckOptions = {}): Promise<CheckResult[]> {
  const btrfs = (...args: string[]) => command(...(options.sudo ? ["sudo", "-n", "btrfs"] : ["btrfs"]), ...args);
  const n = btrfsCheckNames;

  const [findmnt, atBoot] = await Promise.all([
    exec(command("findmnt", "-J", "-v", "-o", "TARGET,SOURCE,FSTYPE,OPTIONS", "--mountpoint", volume.mountpoint)),
    checkMountedAtBoot(exec, volume),
  ]);
  let mount: Mount | undefined;
  try {
    mount = parseFindmnt(findmnt.stdout);
  } catch {
    return notMounted(volume, atBoot, `unreadable findmnt output: ${findmnt.stdout.slice(0, 200)}`);
  }
  if (mount === undefined) {
    return notMounted(volume, atBoot, findmnt.code === 1 && findmnt.stderr.trim() === "" ? "not mounted" : commandError(findmnt));
  }

  const [device, label, qgroupShow] = await Promise.all([
    checkDevice(exec, volume, mount),
    exec(btrfs("filesystem", "label", volume.mountpoint)),
    exec(btrfs("qgroup", "show", "-re", "--raw", volume.mountpoint)),
  ]);
  const results: CheckResult[] = [pass(n.mounted(volume), `${mount.source} at ${mount.target}`), atBoot, device];
  results.push(mount.fstype === "btrfs" ? pass(n.fstype(volume), mount.fstype) : fail(n.fstype(volume), "btrfs", mount.fstype));

  const liveLabel = label.stdout.trim();
  results.push(
    label.code !== 0
      ? fail(n.label(volume), volume.label, commandError(label))
      : liveLabel === volume.label
        ? pass(n.label(volume), liveLabel)
        : fail(n.label(volume), volume.label, liveLabel === "" ? "(no label)" : liveLabel),
  );

  for (const option of volume.mountOptions) {
    const name = n.mountOption(volume, option);
    results.push(hasMountOption(mount.options, option) ? pass(name) : fail(name, mountOptionExpected(option), mount.options.join(",")));
  }

  const quota = quotaState(qgroupShow);
  results.push(checkQuotas(volume, quota));

  const subvolumes = await Promise.all(volume.subvolumes.map((s) => checkSubvolume(exec, btrfs, volume, s, quota)));
  return [...results, ...subvolumes.flat()];
}

type QuotaState =
  | { state: "enabled"; qgroups: Map<string, Qgroup> }
  | { state: "disabled" }
  | { state: "unknown"; error: string };

/** `btrfs qgroup show` fails with "quotas not enabled" exactly when quotas are off. */
function quotaState(result: ExecResult): QuotaState {
  if (result.code === 0) return { state: "enabled", qgroups: parseQgroupShow(result.stdout) };
  if (/quotas not enabled/i.test(result.stderr)) return { state: "disabled" };
  return { state: "unknown", error: commandError(result) };
}

const quotasExpected = (volume: Volume) => (volume.quotas ? "enabled" : "enabled or disabled");

/**
 * Quotas must be on when a subvolume declares a limit. Without one either state is right: nothing
 * turns quotas off when the last limit goes (the volume may be protected, its quota command
 * retained), and the per-subvolume checks still catch a limit left behind.
 */
function checkQuotas(volume: Volume, quota: QuotaState): CheckResult {
  const name = btrfsCheckNames.quotas(volume);
  const expected = quotasExpected(volume);
  if (quota.state === "unknown") return fail(name, expected, quota.error);
  if (!volume.quotas) return pass(name, quota.state === "enabled" ? "enabled (not required)" : "disabled");
  return quota.state === "enabled" ? pass(name, "enabled") : fail(name, expected, "disabled");
}

async function checkDevice(exec: Exec, volume: Volume, mount: Mount): Promise<CheckResult> {
  const name = btrfsCheckNames.device(volume);
  // Compare canonical paths: the manifest may name a /dev/disk/by-* link, findmnt a /dev/mapper one.
  const resolved = await exec(command("readlink", "-f", "--", volume.device, mount.source));
  const [device, source] = resolved.stdout.split("\n");
  if (resolved.code !== 0 || device === undefined || source === undefined || device === "") {
    return fail(name, volume.device, `${mount.source} (cannot resolve ${volume.device}: ${commandError(resolved)})`);
  }
  return device === source ? pass(name, mount.source) : fail(name, `${volume.device} (${device})`, mount.source);
}

async function checkSubvolume(
  exec: Exec,
  btrfs: (...args: string[]) => string,
  volume: Volume,
  subvolume: Subvolume,
  quota: QuotaState,
): Promise<CheckResult[]> {
  const n = btrfsCheckNames;
  const results: CheckResult[] = [];

  const [show, stat] = await Promise.all([
    exec(btrfs("subvolume", "show", subvolume.path)),
    exec(command("stat", "-c", "%U %G %a", "--", subvolume.path)),
  ]);
  const id = show.code === 0 ? parseSubvolumeId(show.stdout) : undefined;
  const subvolumeName = n.subvolume(volume, subvolume);
  results.push(
    id !== undefined
      ? pass(subvolumeName, `subvolume id ${id}`)
      : fail(subvolumeName, "a btrfs subvolume", show.code === 0 ? "no subvolume id in `btrfs subvolume show`" : commandError(show)),
  );

  const live = stat.code === 0 ? parseStat(stat.stdout) : undefined;
  const statError = stat.code === 0 ? `unreadable stat output: ${stat.stdout.trim()}` : commandError(stat);
  const attribute = (name: string, expected: string, found: string | undefined, same: (found: string) => boolean) =>
    found === undefined ? fail(name, expected, statError) : same(found) ? pass(name, found) : fail(name, expected, found);
  results.push(
    attribute(n.owner(volume, subvolume), subvolume.owner, live?.owner, (found) => found === subvolume.owner),
    attribute(n.group(volume, subvolume), subvolume.group, live?.group, (found) => found === subvolume.group),
    attribute(n.mode(volume, subvolume), subvolume.mode, live?.mode, (found) => sameMode(found, subvolume.mode)),
  );

  results.push(checkLimit(volume, subvolume, id, quota));
  return results;
}

function checkLimit(volume: Volume, subvolume: Subvolume, id: number | undefined, quota: QuotaState): CheckResult {
  const name = btrfsCheckNames.limit(volume, subvolume);
  const expected = limitText(subvolume.limitBytes);
  if (quota.state === "unknown") return fail(name, expected, quota.error);
  if (quota.state === "disabled") {
    return subvolume.limitBytes === null ? pass(name, "none (quotas disabled)") : fail(name, expected, "quotas not enabled");
  }
  if (id === undefined) return fail(name, expected, "no such subvolume");
  const qgroup = quota.qgroups.get(`0/${id}`);
  const found = qgroup?.maxReferenced ?? null;
  if (found === subvolume.limitBytes) return pass(name, limitText(found));
  return fail(name, expected, qgroup === undefined ? `no qgroup 0/${id}` : limitText(found));
}

async function checkMountedAtBoot(exec: Exec, volume: Volume): Promise<CheckResult> {
  const name = btrfsCheckNames.atBoot(volume);
  const result = await exec(command("systemctl", "is-enabled", "--", volume.mountUnit));
  const state = result.stdout.trim();
  if (state === "enabled") return pass(name, state);
  return fail(name, "enabled", state === "" ? commandError(result) : state);
}

function notMounted(volume: Volume, atBoot: CheckResult, found: string): CheckResult[] {
  const [mounted, , ...rest] = plannedBtrfsVolumeChecks(volume);
  return [
    ...(mounted === undefined ? [] : [fail(mounted.name, mounted.expected, found)]),
    atBoot,
    ...rest.map((check) => fail(check.name, check.expected, NOT_MOUNTED)),
  ];
}

/** The option, and how the kernel lists it when that differs from how it was written. */
function mountOptionExpected(option: string): string {
  const shown = kernelMountOption(option);
  if (shown === option) return option;
  return `${option} (listed as ${shown ?? `no ${option.split("=")[0]}= option`})`;
}

const limitText = (bytes: number | null) => (bytes === null ? "none" : String(bytes));
