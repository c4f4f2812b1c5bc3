import { redact } from "../redact";
import type { FileDiff, Review, StackReview } from "./diff";
import { capped, diffLines, fileTitle, hasChanges, LIMITS, outputLines, restartLine, stackSummary, stepLines } from "./render-common";

/**
 * The review as a PR comment: per stack a heading and its steps in a diff block, then each changed
 * file once, a long diff folded in a `<details>` block.
 */
export function renderMarkdown(review: Review): string {
  const changed = review.stacks.filter(hasChanges).length;
  const blocks = [`### Review: ${code(review.base)} → work tree`, "", `${changed} of ${review.stacks.length} stacks change.`, ...review.stacks.map(stackBlock)];
  if (review.files.length > 0) blocks.push("", `#### Changed files (${review.files.length})`, ...review.files.map(fileBlock));
  const text = capped(blocks, (hidden) => `\n> [!NOTE]\n> ${hidden} more sections not shown: this review is cut at ${LIMITS.totalChars} characters. Run \`npm run review\` for the rest.`);
  return redact(text, review.secrets);
}

function stackBlock(stack: StackReview): string {
  const head = `\n#### ${escape(stack.stack)}: ${escape(stackSummary(stack))}`;
  if (!hasChanges(stack)) return head;
  const steps = stepLines(stack);
  const restarts = restartLine(stack);
  const outputs = outputLines(stack);
  return [
    head,
    ...(steps.length > 0 ? ["", fenced("diff", steps.join("\n"))] : []),
    ...(restarts ? ["", `**Restarts:** ${stack.restarts.map(code).join(", ")}`] : []),
    ...(outputs.length > 0 ? ["", "**Outputs:**", "", fenced("", outputs.join("\n"))] : []),
  ].join("\n");
}

function fileBlock(file: FileDiff): string {
  const { lines, hidden } = diffLines(file, LIMITS.fileLinesMarkdown);
  const body = fenced("diff", [...lines, ...(hidden > 0 ? [`... ${hidden} more lines`] : [])].join("\n"));
  const title = escape(fileTitle(file));
  const total = lines.length + hidden;
  if (total <= LIMITS.unfoldedLines) return `\n${title}\n\n${body}`;
  return `\n<details><summary>${title}: ${total} lines</summary>\n\n${body}\n\n</details>`;
}

/** A fenced block whose fence no line of the content can close. */
function fenced(language: string, content: string): string {
  const longest = Math.max(2, ...[...content.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  return `${fence}${language}\n${content}\n${fence}`;
}

const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
