/** Parsers for the outputs of findmnt, btrfs-progs and stat that the btrfs checks read. */

export interface Mount {
  target: string;
  source: string;
  fstype: string;
  options: string[];
}

/** `findmnt -J -v -o TARGET,SOURCE,FSTYPE,OPTIONS --mountpoint DIR`; undefined when nothing is mounted there. */
export function parseFindmnt(stdout: string): Mount | undefined {
  if (stdout.trim() === "") return undefined;
  const doc = JSON.parse(stdout) as { filesystems?: Array<Record<string, unknown>> };
  // With stacked mounts findmnt lists each; the last one is the one a path lookup reaches.
  const fs = doc.filesystems?.at(-1);
  if (fs === undefined) return undefined;
  const text = (key: string) => (typeof fs[key] === "string" ? (fs[key] as string) : "");
  return {
    target: text("target"),
    source: text("source"),
    fstype: text("fstype"),
    options: text("options").split(",").filter((o) => o !== ""),
  };
}

/**
 * Whether a live option list satisfies an expected option. The kernel reports some options with
 * a level the admin did not write (`compress=zstd` shows as `compress=zstd:3`).
 */
export function hasMountOption(live: string[], expected: string): boolean {
  return live.some((option) => option === expected || option.startsWith(`${expected}:`));
}

export interface Qgroup {
  id: string;
  /** Limit on referenced bytes; null for none. */
  maxReferenced: number | null;
}

/**
 * `btrfs qgroup show -re --raw MOUNTPOINT`. Columns are qgroupid, rfer, excl, max_rfer, max_excl
 * (and a path column since btrfs-progs 6.0); headers differ between versions, so rows are read by
 * position and recognised by their `level/id` first field.
 */
export function parseQgroupShow(stdout: string): Map<string, Qgroup> {
  const qgroups = new Map<string, Qgroup>();
  for (const line of stdout.split("\n")) {
    const fields = line.trim().split(/\s+/);
    const [id, , , maxRfer] = fields;
    if (id === undefined || maxRfer === undefined || !/^\d+\/\d+$/.test(id)) continue;
    qgroups.set(id, { id, maxReferenced: maxRfer === "none" ? null : Number(maxRfer) });
  }
  return qgroups;
}

/** The `Subvolume ID:` line of `btrfs subvolume show PATH`. */
export function parseSubvolumeId(stdout: string): number | undefined {
  const match = /^\s*Subvolume ID:\s*(\d+)\s*$/m.exec(stdout);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export interface Ownership {
  owner: string;
  group: string;
  mode: string;
}

/** `stat -c '%U %G %a' PATH` */
export function parseStat(stdout: string): Ownership | undefined {
  const [owner, group, mode] = stdout.trim().split(/\s+/);
  if (owner === undefined || group === undefined || mode === undefined || !/^[0-7]+$/.test(mode)) return undefined;
  return { owner, group, mode };
}

/** Same permission bits, however written: "0755" and "755" agree. */
export function sameMode(a: string, b: string): boolean {
  return parseInt(a, 8) === parseInt(b, 8);
}
