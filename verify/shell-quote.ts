/**
 * Quotes one value for a POSIX shell: single quotes, with each embedded `'` closed, escaped and
 * reopened. Every manifest value that reaches a remote command goes through here.
 */
export function quote(value: string): string {
  if (value === "") return "''";
  if (/^[A-Za-z0-9_\/.,:=@%+-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Quotes each argument and joins them into one command line. */
export function command(...args: string[]): string {
  return args.map(quote).join(" ");
}
