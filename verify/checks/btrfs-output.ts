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
 * Whether a live option list (findmnt's OPTIONS, as in /proc/mounts) holds what the kernel lists
 * for a declared option. Some are listed in another form than written (`kernelMountOption`), some
 * not at all; an option listed alongside (nodatacow lists nodatasum too) does not matter.
 */
export function hasMountOption(live: string[], expected: string): boolean {
  const shown = kernelMountOption(expected);
  if (shown !== null) return live.includes(shown);
  const [key] = expected.split("=");
  return !live.some((option) => option.startsWith(`${key}=`));
}

const COMPRESSION = /^(compress|compress-force)=(zstd|zlib|lzo)(?::([0-9]+))?$/;
/** btrfs's default and highest level per algorithm; lzo has no levels. */
const COMPRESSION_LEVELS: Record<string, { fallback: number; max: number }> = {
  zstd: { fallback: 3, max: 15 },
  zlib: { fallback: 3, max: 9 },
};
const DEFAULT_COMMIT_SECONDS = 30;

/**
 * The option as the kernel lists it back for a mount with `option`, or null when it lists nothing
 * for it (btrfs_show_options in fs/btrfs/super.c; checked on Linux 6.1 and 6.18):
 * - compress=/compress-force= zstd and zlib always carry a level: none or 0 is the default 3,
 *   more than the highest (zstd 15, zlib 9) is capped; lzo never carries one, even when given.
 * - commit=N is listed only when it differs from the default 30 s; 0 means the default; the kernel
 *   reads the number as C does (a leading 0 is octal: commit=030 is listed as commit=24).
 * - every other option the stack config allows is listed as written.
 */
export function kernelMountOption(option: string): string | null {
  const compression = COMPRESSION.exec(option);
  if (compression !== null) {
    const [, key, algorithm] = compression;
    const level = compression[3] as string | undefined;
    const levels = COMPRESSION_LEVELS[algorithm];
    if (levels === undefined) return `${key}=${algorithm}`;
    const asked = level === undefined ? 0 : Number(level);
    return `${key}=${algorithm}:${asked === 0 ? levels.fallback : Math.min(asked, levels.max)}`;
  }
  const commit = /^commit=(0[0-7]*|[1-9][0-9]*)$/.exec(option);
  if (commit !== null) {
    const digits = commit[1];
    const seconds = parseInt(digits, digits.startsWith("0") ? 8 : 10);
    return seconds === 0 || seconds === DEFAULT_COMMIT_SECONDS ? null : `commit=${seconds}`;
  }
  return option;
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
