import { shellQuote } from "../lib/shell-quote";

/** Values a host script receives in its parameter header. */
export type ScriptParam = string | number | boolean | readonly string[];
export type ScriptParams = Readonly<Record<string, ScriptParam>>;

const PARAM_NAME = /^[A-Z][A-Z0-9_]*$/;

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
