/** Values a host script receives in its parameter header. */
export type ScriptParam = string | number | boolean | readonly string[];
export type ScriptParams = Readonly<Record<string, ScriptParam>>;

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;
const PARAM_NAME = /^[A-Z][A-Z0-9_]*$/;

/**
 * Quotes a value so that bash reads it back as exactly one word, whatever it holds. Control
 * characters (newlines included) use ANSI-C quoting, so a rendered header never spans lines and
 * cannot end the here-document that carries the script.
 */
export function shellQuote(value: string): string {
  if (value !== "" && SAFE_WORD.test(value)) return value;
  if (/[\x00-\x1f\x7f]/.test(value)) {
    const escaped = [...value]
      .map((ch) => {
        const code = ch.charCodeAt(0);
        if (ch === "\\") return "\\\\";
        if (ch === "'") return "\\'";
        if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, "0")}`;
        return ch;
      })
      .join("");
    return `$'${escaped}'`;
  }
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Renders `NAME=value` lines (bash arrays for lists), one per parameter, in a stable order. */
export function renderHeader(params: ScriptParams): string {
  return Object.keys(params)
    .sort()
    .map((name) => {
      if (!PARAM_NAME.test(name)) throw new Error(`script parameter name "${name}" must match ${PARAM_NAME}`);
      const value = params[name];
      if (typeof value === "object") return `${name}=(${value.map(shellQuote).join(" ")})`;
      return `${name}=${shellQuote(String(value))}`;
    })
    .join("\n");
}
