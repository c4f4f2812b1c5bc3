import { changedInputKeys } from "./engine/steps";
import type { ResourceGoal } from "./engine/types";
import { inputChangeLines } from "./plan-text";
import { redact } from "./redact";

/** One stack as the diff compares it: its stack file's config and what the program registers from it. */
export interface StackSide {
  stack: string;
  /** The `config:` section of `Pulumi.<stack>.yaml`, as written (`secure:` values still encrypted). */
  config: Record<string, unknown>;
  /** Every resource the program registered, in registration order. */
  goals: ResourceGoal[];
  /** Values that must never be shown. */
  secrets: string[];
}

/** Longest value shown whole; longer ones are folded to this with the count of what was left out. */
export const MAX_VALUE_CHARS = 100;

import { expandFleet } from "../stacks/fleet";

const PROJECT = "sparks";
const SECRET = "[secret]";

/**
 * Two stacks' differences: their config by path (`hosts[0].ssh.address: a -> b`, a path only one
 * side has at the highest point where the other lacks it), then what those values make of the
 * program: the resources only one stack has and, for resources both have, the inputs and options
 * that differ. Names are compared with the stack's name and each host's name (by position, as the
 * config paths are) replaced by their config path, so `dev-1-data-format` and `prod-1-data-format`
 * are one resource, `{hosts[0].name}-data-format`. Encrypted values show as `[secret]` and are
 * not compared.
 */
export function renderStackDiff(a: StackSide, b: StackSide): string {
  const configLines = configDiff(a.config, b.config);
  const [namesA, namesB] = [a, b].map((side) => nameTokens(side));
  const goalsA = keyed(a.goals, namesA);
  const goalsB = keyed(b.goals, namesB);
  const onlyA = [...goalsA.keys()].filter((key) => !goalsB.has(key));
  const onlyB = [...goalsB.keys()].filter((key) => !goalsA.has(key));
  const both = [...goalsB.keys()].filter((key) => goalsA.has(key));
  const differing = both.map((key) => [key, resourceChanges(goalsA.get(key)!, goalsB.get(key)!, namesA, namesB)] as const).filter(([, lines]) => lines.length > 0);

  const tokens = [...new Set([...namesA, ...namesB].map(([, token]) => token))];
  const valueOf = (names: [string, string][], token: string) => names.find(([, t]) => t === token)?.[0] ?? "(none)";
  const out = [
    `Stacks ${a.stack} -> ${b.stack}: one program, ${configLines.length} config ${configLines.length === 1 ? "path differs" : "paths differ"}.`,
    "",
    `Config (Pulumi.${a.stack}.yaml -> Pulumi.${b.stack}.yaml):`,
    ...(configLines.length > 0 ? configLines.map((line) => `  ${line}`) : ["  (the same)"]),
    "",
    "Resources, named with:",
    ...tokens.map((token) => `  ${token} = ${valueOf(namesA, token)} -> ${valueOf(namesB, token)}`),
    "",
    `Only in ${a.stack} (${onlyA.length}):`,
    ...onlyA.map((key) => `  - ${key}`),
    `Only in ${b.stack} (${onlyB.length}):`,
    ...onlyB.map((key) => `  + ${key}`),
    `In both, differing (${differing.length} of ${both.length}):`,
    ...differing.flatMap(([key, lines]) => [`  ~ ${key}`, ...lines.map((line) => `      ${line}`)]),
    "",
    `Resources: ${a.goals.length} in ${a.stack}, ${b.goals.length} in ${b.stack}; ${both.length} in both (${differing.length} differ, ${both.length - differing.length} the same), ${onlyA.length} only in ${a.stack}, ${onlyB.length} only in ${b.stack}`,
  ];
  return `${redact(out.join("\n"), [...a.secrets, ...b.secrets])}\n`;
}

/** `- path: old`, `+ path: new`, `~ path: old -> new`, in the order of the paths in both files. */
export function configDiff(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const walk = (x: unknown, y: unknown, at: string) => {
    if (x === undefined) return void lines.push(`+ ${at}: ${fold(show(y))}`);
    if (y === undefined) return void lines.push(`- ${at}: ${fold(show(x))}`);
    if (isSecure(x) || isSecure(y) || !isContainer(x) || !isContainer(y) || Array.isArray(x) !== Array.isArray(y)) {
      if (show(x) !== show(y)) lines.push(`~ ${at}: ${fold(show(x))} -> ${fold(show(y))}`);
      return;
    }
    const keys = Array.isArray(x)
      ? Array.from({ length: Math.max(x.length, (y as unknown[]).length) }, (_, i) => i)
      : [...new Set([...Object.keys(x), ...Object.keys(y as object)])];
    for (const key of keys) {
      const child = typeof key === "number" ? `${at}[${key}]` : at === "" ? key : `${at}.${key}`;
      walk((x as Record<string | number, unknown>)[key], (y as Record<string | number, unknown>)[key], child);
    }
  };
  const bare = (config: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(config).map(([key, value]) => [key.startsWith(`${PROJECT}:`) ? key.slice(PROJECT.length + 1) : key, value]));
  // Each host as the stack deploys it: shared blocks (hostDefaults, roles) merged in, so a value
  // both stacks give alike reads alike however each file spells it.
  walk(expandFleet(bare(a)).config, expandFleet(bare(b)).config, "");
  return lines;
}

/** A value as one line: a string as written, `secure:` as `[secret]`, anything else as JSON with secrets masked. */
function show(value: unknown): string {
  if (typeof value === "string") return value;
  if (isSecure(value)) return SECRET;
  return JSON.stringify(value, (_key, inner) => (isSecure(inner) ? SECRET : inner)) ?? "(none)";
}

export function fold(text: string, max = MAX_VALUE_CHARS): string {
  const line = text.replace(/\n/g, "\\n");
  return line.length <= max ? line : `${line.slice(0, max)}… (+${line.length - max} chars)`;
}

const isSecure = (value: unknown) => typeof value === "object" && value !== null && !Array.isArray(value) && "secure" in value;
const isContainer = (value: unknown): value is object => typeof value === "object" && value !== null;

/**
 * What stands for a name in the other stack's resources: the root stack resource's name and each
 * URN's stack, and each host's name, by its position in `hosts`.
 */
function nameTokens(side: StackSide): [string, string][] {
  const hosts = (parseMaybeJson(side.config[`${PROJECT}:hosts`]) as { name?: unknown }[] | undefined) ?? [];
  return [[side.stack, "{stack}"], ...hosts.flatMap((host, i): [string, string][] => (typeof host?.name === "string" ? [[host.name, `{hosts[${i}].name}`]] : []))];
}

function parseMaybeJson(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/**
 * A text with the stack's and hosts' names replaced by their tokens: the stack in URNs and in the
 * root resource's name, a host's name wherever it stands as a whole name or a name's first part
 * (`dev-1`, `dev-1-data`; not `spark-dev-1`, a guest's own name).
 */
function normalize(text: string, names: [string, string][]): string {
  const [[stack], ...hosts] = names;
  let out = text.split(`urn:pulumi:${stack}::`).join("urn:pulumi:{stack}::").split(`${PROJECT}-${stack}`).join(`${PROJECT}-{stack}`);
  for (const [host, token] of hosts) out = out.replace(new RegExp(`(?<![\\w.-])${escapeRegExp(host)}(?![\\w.])`, "g"), token);
  return out;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Goals by normalized `name (type)`; a remote command, most of them, by name alone. */
function keyed(goals: readonly ResourceGoal[], names: [string, string][]): Map<string, ResourceGoal> {
  return new Map(goals.map((goal) => [`${normalize(goal.name, names)}${goal.type === "command:remote:Command" ? "" : ` (${goal.type})`}`, goal]));
}

/** Inputs and resource options that differ once names are normalized, one line each. */
function resourceChanges(a: ResourceGoal, b: ResourceGoal, namesA: [string, string][], namesB: [string, string][]): string[] {
  const normalized = (value: unknown, names: [string, string][]) => JSON.parse(normalize(JSON.stringify(value), names)) as Record<string, unknown>;
  const [inputsA, inputsB] = [normalized(a.inputs, namesA), normalized(b.inputs, namesB)];
  const lines = inputChangeLines(inputsA, inputsB, changedInputKeys(inputsA, inputsB)).map((line) => fold(line, MAX_VALUE_CHARS * 2));
  const options = ["protect", "retainOnDelete", "deleteBeforeReplace"] as const;
  for (const option of options) if (a[option] !== b[option]) lines.push(`${option}: ${a[option]} -> ${b[option]}`);
  const [depsA, depsB] = [normalized(a.dependencies, namesA) as unknown as string[], normalized(b.dependencies, namesB) as unknown as string[]];
  const depName = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
  for (const dep of depsA.filter((d) => !depsB.includes(d))) lines.push(`dependsOn: - ${depName(dep)}`);
  for (const dep of depsB.filter((d) => !depsA.includes(d))) lines.push(`dependsOn: + ${depName(dep)}`);
  return lines;
}
