const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1_000 } as const;

/** `90`, `90s`, `5m`, `1h30m` in milliseconds; a bare number is seconds. Throws on anything else. */
export function parseDuration(text: string): number {
  if (/^\d+$/.test(text)) return Number(text) * UNIT_MS.s;
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (text === "" || match === null) throw new Error(`expected a duration like 90s, 5m or 1h30m, got "${text}"`);
  const [, hours = "0", minutes = "0", seconds = "0"] = match;
  return Number(hours) * UNIT_MS.h + Number(minutes) * UNIT_MS.m + Number(seconds) * UNIT_MS.s;
}
