import { renderStep, summaryLine } from "../plan-text";
import type { FileDiff, StackReview } from "./diff";

/** Bounds that keep a review readable and within what a PR comment takes (GitHub: 65536 characters). */
export const LIMITS = {
  /** Changed resources listed per stack; the rest are counted. */
  steps: 60,
  /** Changed outputs listed per stack. */
  outputs: 20,
  /** Diff lines shown per file in the terminal, and in a PR comment's folded block. */
  fileLinesText: 40,
  fileLinesMarkdown: 150,
  /** Diffs up to this many lines stay unfolded in a PR comment. */
  unfoldedLines: 12,
  /** The whole output. */
  totalChars: 60_000,
};

/** Whether the stack's deploy would change anything: a step, or an output. */
export const hasChanges = (review: StackReview): boolean => review.steps.some((step) => step.kind !== "same") || review.outputs.length > 0;

/** The stack's heading after its name: what kind of change it is. */
export function stackSummary(review: StackReview): string {
  if (!hasChanges(review)) return "no changes";
  const only = review.only === "head" ? "new stack; " : review.only === "base" ? "stack removed (the work tree has no stack file); " : "";
  return `${only}${summaryLine(review.steps).replace(/^Resources: /, "")}`;
}

/** The changed steps as the plan lists them, each with the review's notes; at most LIMITS.steps. */
export function stepLines(review: StackReview): string[] {
  const changed = review.steps.filter((step) => step.kind !== "same");
  const shown = changed.slice(0, LIMITS.steps).map((step) => {
    const notes = review.notes[step.urn] ?? [];
    // The plan's "script changed" says less than the note that names the script.
    const explained = (line: string) => notes.some((note) => line === `    ${note.slice(0, note.indexOf(":"))}: script changed`);
    const plan = renderStep(step, false).split("\n").filter((line) => !explained(line));
    return [...plan, ...notes.map((line) => `    ${line}`)].join("\n");
  });
  const hidden = changed.length - shown.length;
  return hidden > 0 ? [...shown, `... ${hidden} more changed resources`] : shown;
}

export function restartLine(review: StackReview): string | undefined {
  return review.restarts.length > 0 ? `restarts: ${review.restarts.join(", ")}` : undefined;
}

export function outputLines(review: StackReview): string[] {
  const shown = review.outputs.slice(0, LIMITS.outputs).map((o) => `${o.path}: ${o.old} -> ${o.new}`);
  const hidden = review.outputs.length - shown.length;
  return hidden > 0 ? [...shown, `... ${hidden} more changed outputs`] : shown;
}

/** The file's diff lines, hunk headers included, at most `max`; and how many were left out. */
export function diffLines(file: FileDiff, max: number): { lines: string[]; hidden: number } {
  const all = file.hunks.flatMap((hunk) => [hunk.header, ...hunk.lines]);
  return { lines: all.slice(0, max), hidden: Math.max(0, all.length - max) };
}

export function fileTitle(file: FileDiff): string {
  const names = file.names.length > 3 ? [...file.names.slice(0, 3), `and ${file.names.length - 3} more`] : file.names;
  return `${names.join(", ")} (+${file.added} -${file.removed}; ${file.stacks.join(", ")})`;
}

/**
 * Joins the blocks until the next would pass `LIMITS.totalChars`, then says what was left out: a
 * cut between blocks never leaves a code block or a `<details>` open.
 */
export function capped(blocks: readonly string[], note: (hidden: number) => string, limit = LIMITS.totalChars): string {
  const kept: string[] = [];
  let size = 0;
  for (const block of blocks) {
    if (size + block.length + 1 > limit && kept.length > 0) {
      kept.push(note(blocks.length - kept.length));
      break;
    }
    kept.push(block);
    size += block.length + 1;
  }
  return `${kept.join("\n")}\n`;
}

