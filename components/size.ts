const UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** "20G" -> 21474836480: binary units, as btrfs-progs reads them. */
export function parseSize(size: string): number {
  const match = /^([1-9][0-9]*)([KMGT]?)$/.exec(size);
  if (!match) throw new Error(`size "${size}" must be a whole number with an optional K, M, G or T suffix`);
  const bytes = Number(match[1]) * UNITS[match[2]];
  if (!Number.isSafeInteger(bytes)) throw new Error(`size "${size}" is too large`);
  return bytes;
}
