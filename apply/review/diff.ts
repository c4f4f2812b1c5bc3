import { BUNDLE_REMOTE_DIR } from "../../components/host-script";
import { entryFromGoal } from "../engine/execute";
import { planUpdate } from "../engine/steps";
import type { Step } from "../engine/types";
import { urnName } from "../engine/urn";
import { ARCHIVE_SIG, isSecret, secretStrings, SIG_KEY, unwrapSecrets } from "../engine/values";
import { commandOf, params, scriptHeader } from "../plan-text";
import type { EvaluatedSide } from "./evaluate-rev";
import { type Hunk, unifiedDiff } from "./unified-diff";

/** What one stack's deploy would do if the work tree replaced the base. */
export interface StackReview {
  stack: string;
  /** The stack file exists on one side only. */
  only?: "base" | "head";
  /** Every step, `same` included, in the engine's order. */
  steps: Step[];
  /** Lines a step gets beyond the plan's: which changed file it runs or ships, by URN. */
  notes: Record<string, string[]>;
  /** Resources whose change restarts what they run (their ON_CHANGE says so for a changed parameter). */
  restarts: string[];
  /** Stack outputs that change, one per changed leaf. */
  outputs: { path: string; old: string; new: string }[];
}

/** One changed file, shown once however many commands and stacks carry it. */
export interface FileDiff {
  /** What carries it: shipped bundle paths without their content hash, or `<script> (in the command)`. */
  names: string[];
  stacks: string[];
  hunks: Hunk[];
  added: number;
  removed: number;
}

export interface Review {
  base: string;
  stacks: StackReview[];
  files: FileDiff[];
  /** Values no rendering may show. */
  secrets: string[];
}

export interface StackSides {
  stack: string;
  base?: EvaluatedSide;
  head?: EvaluatedSide;
}

const EMPTY: EvaluatedSide = { goals: [], outputs: {}, archives: {}, secretValues: [] };

/**
 * The review of a change: per stack, the steps the engine would take from the base's resources
 * (taken as the stored state a deploy of the base left) to the work tree's, and the files that
 * change, each once. Pure: both sides are already evaluated.
 */
export function buildReview(base: string, sides: readonly StackSides[]): Review {
  const files = new FileDiffs();
  const stacks = sides.map((side) => reviewStack(side, files));
  const secrets = sides.flatMap((side) =>
    [side.base, side.head].flatMap((s) => (s ? [...s.secretValues, ...s.goals.flatMap((goal) => secretStrings(goal.inputs))] : [])),
  );
  return { base, stacks, files: files.all(), secrets: [...new Set(secrets)] };
}

function reviewStack(side: StackSides, files: FileDiffs): StackReview {
  const [base, head] = [side.base ?? EMPTY, side.head ?? EMPTY];
  const state = { version: 1 as const, stack: side.stack, resources: base.goals.map((goal) => entryFromGoal(goal, {})), pendingOperations: [] };
  const steps = planUpdate(state, head.goals);
  const notes: Record<string, string[]> = {};
  const restarts: string[] = [];
  for (const step of steps) {
    if (step.kind !== "update" && step.kind !== "replace") continue;
    const lines = [...commandFileNotes(step, side.stack, files), ...archiveNotes(step, base, head, side.stack, files)];
    if (lines.length > 0) notes[step.urn] = lines;
    if (restartsOnChange(step)) restarts.push(urnName(step.urn));
  }
  return {
    stack: side.stack,
    ...(side.base === undefined ? { only: "head" as const } : side.head === undefined ? { only: "base" as const } : {}),
    steps,
    notes,
    restarts,
    outputs: outputChanges(base.outputs, head.outputs),
  };
}

const BUNDLE_CALL = new RegExp(`^\\. ${BUNDLE_REMOTE_DIR.replace(/[/.]/g, "\\$&")}/(\\S+)$`);

/** A shipped file's name without the content hash it is shipped under: `scripts/x/y-0123456789ab.sh` -> `scripts/x/y.sh`. */
export const logicalName = (shipped: string): string => shipped.replace(/-[0-9a-f]{12}(?=\.sh$|\/)/g, "");

/**
 * A command's text beyond its parameters: a call of a shipped script (changed: the diff is the
 * bundle's) or a script and files it carries itself (changed: diffed here, once).
 */
function commandFileNotes(step: Step, stack: string, files: FileDiffs): string[] {
  if (step.type !== "command:remote:Command") return [];
  return (["create", "delete"] as const).flatMap((key) => {
    if (!step.changedKeys?.includes(key)) return [];
    const [oldText, newText] = [commandOf(step.old?.inputs ?? {}, key), commandOf(step.goal?.inputs ?? {}, key)];
    if (oldText === undefined || newText === undefined) return [];
    const [oldBody, newBody] = [bodyOf(oldText), bodyOf(newText)];
    const notes: string[] = [];
    const [oldCall, newCall] = [oldBody.map((l) => BUNDLE_CALL.exec(l)?.[1]).find(Boolean), newBody.map((l) => BUNDLE_CALL.exec(l)?.[1]).find(Boolean)];
    if (oldCall !== newCall && newCall !== undefined) {
      notes.push(`${key}: runs ${logicalName(newCall)}${oldCall !== undefined && logicalName(oldCall) === logicalName(newCall) ? ", which changed (diff below)" : ` (was ${oldCall ? logicalName(oldCall) : "none"})`}`);
    }
    const normalize = (body: string[]) => body.map((l) => l.replace(BUNDLE_CALL, (_m, shipped: string) => `. ${BUNDLE_REMOTE_DIR}/${logicalName(shipped)}`)).join("\n");
    const [oldRest, newRest] = [normalize(oldBody), normalize(newBody)];
    if (oldRest !== newRest) {
      const script = scriptHeader(newText)[0]?.replace(/^# /, "") ?? urnName(step.urn);
      files.add(`${script}: what the ${key} command carries`, stack, oldRest, newRest);
      notes.push(`${key}: the script or files it carries changed (diff below: ${script})`);
    }
    return notes;
  });
}

/** The command text after its parameter header: what it runs and carries. */
function bodyOf(command: string): string[] {
  const header = scriptHeader(command);
  const lines = command.split("\n");
  return header.length === 0 ? lines : lines.slice(header.length + 2);
}

/** A changed shipped archive (the bundle): each changed file by name, its diff once. */
function archiveNotes(step: Step, base: EvaluatedSide, head: EvaluatedSide, stack: string, files: FileDiffs): string[] {
  if (!step.changedKeys?.includes("source")) return [];
  const pathOf = (inputs: Record<string, unknown> | undefined) => {
    const source = (unwrapSecrets(inputs ?? {}) as { source?: Record<string, unknown> }).source;
    return source?.[SIG_KEY] === ARCHIVE_SIG && typeof source.path === "string" ? source.path : undefined;
  };
  const byName = (archive: Record<string, string> | undefined) => new Map(Object.entries(archive ?? {}).map(([file, text]) => [logicalName(file), text]));
  const oldPath = pathOf(step.old?.inputs);
  const newPath = pathOf(step.goal?.inputs);
  const [olds, news] = [byName(oldPath === undefined ? undefined : base.archives[oldPath]), byName(newPath === undefined ? undefined : head.archives[newPath])];
  const changed = [...new Set([...olds.keys(), ...news.keys()])].sort().filter((name) => olds.get(name) !== news.get(name));
  for (const name of changed) files.add(name, stack, olds.get(name) ?? "", news.get(name) ?? "");
  if (changed.length === 0) return [];
  const shown = changed.slice(0, 8).map((name) => `${name}${!olds.has(name) ? " (new)" : !news.has(name) ? " (removed)" : ""}`);
  return [`ships ${changed.length} changed file${changed.length === 1 ? "" : "s"}: ${shown.join(", ")}${changed.length > shown.length ? `, ... ${changed.length - shown.length} more` : ""} (diff below)`];
}

/**
 * Whether the step restarts what it runs: its ON_CHANGE (`PARAMS: what happens; ...`) has a clause
 * that restarts and names a parameter that changed.
 */
function restartsOnChange(step: Step): boolean {
  const newCommand = commandOf(step.goal?.inputs ?? {}, "create");
  if (newCommand === undefined) return false;
  const [olds, news] = [params(commandOf(step.old?.inputs ?? {}, "create") ?? ""), params(newCommand)];
  const changed = [...new Set([...olds.keys(), ...news.keys()])].filter((name) => olds.get(name) !== news.get(name)).map((name) => name.toLowerCase());
  const onChange = news.get("ON_CHANGE")?.replace(/^'|'$/g, "") ?? "";
  return onChange.split(";").some((clause) => {
    const [names, effect] = clause.split(":");
    if (effect === undefined || !/restart/i.test(effect)) return false;
    return names.split(",").map((n) => n.trim().toLowerCase()).some((n) => n !== "" && changed.some((c) => c === n || c.startsWith(`${n}_`)));
  });
}

/** Changed leaves of the stack outputs, secrets shown as `[secret]`. */
function outputChanges(olds: Record<string, unknown>, news: Record<string, unknown>): StackReview["outputs"] {
  const [a, b] = [leaves(olds), leaves(news)];
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const changes: StackReview["outputs"] = [];
  const seen = new Set<string>();
  for (const p of paths.filter((p) => a.get(p) !== b.get(p))) {
    // A part that is new or gone as a whole (a host, an instance) is one line, not one per value.
    const missing = !a.has(p) ? a : !b.has(p) ? b : undefined;
    const top = missing === undefined ? p : outermostAbsent(p, missing);
    if (seen.has(top)) continue;
    seen.add(top);
    if (top === p) changes.push({ path: p, old: a.get(p) ?? "(none)", new: b.get(p) ?? "(none)" });
    else {
      const count = [...(missing === a ? b : a).keys()].filter((q) => within(q, top)).length;
      const whole = `(${count} value${count === 1 ? "" : "s"})`;
      changes.push({ path: top, old: missing === a ? "(none)" : whole, new: missing === a ? whole : "(none)" });
    }
  }
  return changes;
}

const within = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);

/** The shortest prefix of `path` under which `side` has no value at all. */
function outermostAbsent(path: string, side: Map<string, string>): string {
  const cuts = [...path.matchAll(/[.[]/g)].map((m) => m.index as number);
  for (const cut of cuts) {
    const prefix = path.slice(0, cut);
    if (prefix !== "" && ![...side.keys()].some((q) => within(q, prefix))) return prefix;
  }
  return path;
}

function leaves(value: unknown, at = "", into = new Map<string, string>()): Map<string, string> {
  if (isSecret(value)) into.set(at, "[secret]");
  else if (Array.isArray(value) && value.length > 0) value.forEach((inner, i) => leaves(inner, `${at}[${i}]`, into));
  else if (value !== null && typeof value === "object" && Object.keys(value).length > 0) {
    for (const [key, inner] of Object.entries(value)) leaves(inner, at === "" ? key : `${at}.${key}`, into);
  } else into.set(at, JSON.stringify(value));
  return into;
}

/** Changed files, each once: the same change carried by several commands or stacks is one entry. */
class FileDiffs {
  private readonly byChange = new Map<string, FileDiff>();

  add(name: string, stack: string, oldText: string, newText: string): void {
    const hunks = unifiedDiff(oldText, newText);
    if (hunks.length === 0) return;
    // The same edit at another line (a library inlined into many scripts) is the same change.
    const key = hunks.map((hunk) => hunk.lines.join("\n")).join("\n@@\n");
    const known = this.byChange.get(key);
    if (known) {
      if (!known.names.includes(name)) known.names.push(name);
      if (!known.stacks.includes(stack)) known.stacks.push(stack);
      return;
    }
    const count = (sign: string) => hunks.reduce((sum, hunk) => sum + hunk.lines.filter((line) => line.startsWith(sign)).length, 0);
    this.byChange.set(key, { names: [name], stacks: [stack], hunks, added: count("+"), removed: count("-") });
  }

  all(): FileDiff[] {
    return [...this.byChange.values()];
  }
}
