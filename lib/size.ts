const UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/**
 * "20G" -> 21474836480: a whole number with an optional K, M, G or T suffix, binary units, as
 * btrfs-progs and truncate read them. The one size grammar of the project (stack config limits,
 * the sandbox disk); "GB", "GiB" and lower case are refused rather than guessed at (truncate reads
 * "16GB" as 16 * 10^9).
 */
export function parseSize(size: string): number {
  const match = /^([1-9][0-9]*)([KMGT]?)$/.exec(size);
  if (!match) throw new Error(`size "${size}" must be a whole number with an optional K, M, G or T suffix`);
  const bytes = Number(match[1]) * UNITS[match[2]];
  if (!Number.isSafeInteger(bytes)) throw new Error(`size "${size}" is too large`);
  return bytes;
}

/** 4294967296 -> "4G": the largest unit that divides the size, as the config would write it. */
export function formatSize(bytes: number): string {
  const [suffix, unit] = Object.entries(UNITS)
    .reverse()
    .find(([, unit]) => bytes % unit === 0) ?? ["", 1];
  return `${bytes / unit}${suffix}`;
}
