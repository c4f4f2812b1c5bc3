import { HEADER_END } from "../components/host-script";
import { parseShellWords } from "../lib/shell-quote";
import type { Step } from "./engine/types";
import { urnName } from "./engine/urn";
import { unwrapSecrets } from "./engine/values";
import { redact } from "./redact";

export interface PlanTextOptions {
  /** Show each created command's parameters, not only its name. */
  full: boolean;
  /** Secret values to mask wherever they appear. */
  secrets: string[];
}

const SYMBOL = { create: "+", update: "~", replace: "+-", delete: "-", same: " " } as const;

/**
 * The steps the engine would take, the way `pulumi preview --diff` lists them: one line per
 * resource that changes, with the command parameters that change by name (`old -> new`), then a
 * count per kind. Unchanged resources are only counted.
 */
export function renderPlan(steps: readonly Step[], options: PlanTextOptions): string {
  const blocks = steps.filter((step) => step.kind !== "same").map((step) => renderStep(step, options.full));
  const lines = [...blocks, summaryLine(steps)];
  return `${redact(lines.join("\n"), options.secrets)}\n`;
}

/** One step as the plan lists it: its line, then its details indented (what changed, how it applies, a refusal). */
export function renderStep(step: Step, full: boolean): string {
  const name = urnName(step.urn);
  const head = `${SYMBOL[step.kind]} ${step.kind} ${name}${describeStep(step)}`;
  const details: string[] = [];
  if (step.refused) details.push(`error: ${step.refused}`);
  if (step.kind === "update" || step.kind === "replace") details.push(...inputChanges(step), ...howItApplies(step));
  if (step.kind === "create" && full && step.goal) details.push(...scriptHeader(commandOf(step.goal.inputs, "create")).map((line) => `${line}`));
  return [head, ...details.map((line) => `    ${line}`)].join("\n");
}

function describeStep(step: Step): string {
  const notes: string[] = [];
  // Commands are most of a plan; anything else says what it is.
  if (step.type !== "command:remote:Command") notes.push(step.type);
  if (step.kind === "replace") notes.push(`${step.replaceReason} forces a replace, ${step.deleteFirst ? "delete first" : "create first"}`);
  if (step.retained) notes.push(step.kind === "delete" ? "retainOnDelete: its delete does not run, what it made stays" : "retainOnDelete: the old delete does not run");
  if (step.kind === "delete" && !step.retained && step.old?.custom && typeof (unwrapSecrets(step.old.inputs) as { delete?: unknown }).delete !== "string") {
    notes.push("no delete command: only forgotten");
  }
  if (step.old && step.goal && step.old.urn !== step.goal.urn) notes.push(`was ${step.old.urn} (alias)`);
  return notes.length > 0 ? ` (${notes.join("; ")})` : "";
}

function inputChanges(step: Step): string[] {
  return inputChangeLines(step.old?.inputs ?? {}, step.goal?.inputs ?? {}, step.changedKeys ?? []);
}

/** What changed in `keys` of two resources' inputs, by script parameter where the input is a host command, else by input key. */
export function inputChangeLines(oldInputs: Record<string, unknown>, newInputs: Record<string, unknown>, keys: readonly string[]): string[] {
  const olds = unwrapSecrets(oldInputs) as Record<string, unknown>;
  const news = unwrapSecrets(newInputs) as Record<string, unknown>;
  return keys.flatMap((key) => {
    if ((key === "create" || key === "delete") && typeof olds[key] === "string" && typeof news[key] === "string") {
      const changes = paramChanges(olds[key] as string, news[key] as string);
      return changes.length > 0 ? changes.map((change) => (key === "create" ? change : `delete: ${change}`)) : [`${key}: script changed`];
    }
    if (key === "connection") return ["connection changed (secret)"];
    if (key === "source") return [`source: ${shortHash(olds.source)} -> ${shortHash(news.source)}`];
    return [`${key}: ${show(olds[key])} -> ${show(news[key])}`];
  });
}

/** A command that says how a change applies (its ON_CHANGE parameter, e.g. a restart) says it in the plan. */
export function howItApplies(step: Step): string[] {
  const onChange = paramValue(params(commandOf(step.goal?.inputs ?? {}, "create") ?? "").get("ON_CHANGE"));
  return typeof onChange === "string" ? [`applies as: ${onChange}`] : [];
}

function paramChanges(oldCommand: string, newCommand: string): string[] {
  const olds = params(oldCommand);
  const news = params(newCommand);
  const names = [...new Set([...olds.keys(), ...news.keys()])].sort();
  return names.filter((name) => olds.get(name) !== news.get(name)).flatMap((name) => valueChanges(name, paramValue(olds.get(name)), paramValue(news.get(name))));
}

/** The script's parameters as rendered in its header (components/shell.ts renderHeader: one line each), by name. */
export function params(remoteCommand: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of scriptHeader(remoteCommand).slice(1)) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match) found.set(match[1], match[2]);
  }
  return found;
}

type ParamValue = string | string[] | undefined;

/** A rendered value read back: a word, or a bash array's words. */
function paramValue(rendered: string | undefined): ParamValue {
  if (rendered === undefined) return undefined;
  if (rendered.startsWith("(") && rendered.endsWith(")")) return parseShellWords(rendered.slice(1, -1));
  return parseShellWords(rendered)[0] ?? "";
}

/**
 * One line per changed part, so a one-value change reads as one line: the element of a list, the
 * key of a JSON document, else the value itself.
 */
function valueChanges(name: string, olds: ParamValue, news: ParamValue): string[] {
  if (Array.isArray(olds) && Array.isArray(news)) {
    if (olds.length === news.length) return olds.flatMap((old, i) => (old === news[i] ? [] : [`${name}: ${old} -> ${news[i]}`]));
    return [...olds.filter((o) => !news.includes(o)).map((o) => `${name}: - ${o}`), ...news.filter((n) => !olds.includes(n)).map((n) => `${name}: + ${n}`)];
  }
  const [oldJson, newJson] = [jsonObject(olds), jsonObject(news)];
  if (oldJson && newJson) {
    const keys = [...new Set([...Object.keys(oldJson), ...Object.keys(newJson)])];
    return keys.filter((key) => JSON.stringify(oldJson[key]) !== JSON.stringify(newJson[key])).map((key) => `${name}.${key}: ${show(oldJson[key])} -> ${show(newJson[key])}`);
  }
  const text = (value: ParamValue) => (value === undefined ? "(none)" : Array.isArray(value) ? `(${value.join(" ")})` : value === "" ? "''" : value);
  return [`${name}: ${text(olds)} -> ${text(news)}`];
}

function jsonObject(value: ParamValue): Record<string, unknown> | undefined {
  if (typeof value !== "string" || !value.startsWith("{")) return undefined;
  try {
    return JSON.parse(value) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The header lines of a remote command: its script's name, then its parameters. */
export function scriptHeader(remoteCommand: string | undefined): string[] {
  if (remoteCommand === undefined) return [];
  const lines = remoteCommand.split("\n").slice(1);
  const end = lines.indexOf(HEADER_END);
  return end < 0 ? [] : lines.slice(0, end);
}

export function commandOf(inputs: Record<string, unknown>, key: string): string | undefined {
  const value = (unwrapSecrets(inputs) as Record<string, unknown>)[key];
  return typeof value === "string" ? value : undefined;
}

function shortHash(source: unknown): string {
  const hash = (source as { hash?: string } | undefined)?.hash;
  return hash === undefined ? "(none)" : hash.slice(0, 12);
}

function show(value: unknown): string {
  return value === undefined ? "(none)" : JSON.stringify(value);
}

export function summaryLine(steps: readonly Step[]): string {
  const counts = countSteps(steps);
  const parts = (["create", "update", "replace", "delete", "same"] as const).filter((kind) => counts[kind] > 0).map((kind) => `${counts[kind]} to ${kind === "same" ? "leave unchanged" : kind}`);
  return `Resources: ${parts.length > 0 ? parts.join(", ") : "none"}`;
}

export function countSteps(steps: readonly Step[]): Record<Step["kind"], number> {
  const counts = { same: 0, create: 0, update: 0, replace: 0, delete: 0 };
  for (const step of steps) counts[step.kind]++;
  return counts;
}
