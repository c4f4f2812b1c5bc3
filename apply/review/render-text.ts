import { redact } from "../redact";
import type { Review, StackReview } from "./diff";
import { capped, diffLines, fileTitle, hasChanges, LIMITS, outputLines, restartLine, stackSummary, stepLines } from "./render-common";

/** The review for a terminal: per stack its steps, restarts and outputs, then each changed file once. */
export function renderText(review: Review): string {
  const blocks = [`review: ${review.base} -> work tree`, ...review.stacks.map(stackBlock)];
  if (review.files.length > 0) {
    blocks.push("\nchanged files:");
    for (const file of review.files) {
      const { lines, hidden } = diffLines(file, LIMITS.fileLinesText);
      blocks.push([`--- ${fileTitle(file)}`, ...lines, ...(hidden > 0 ? [`... ${hidden} more lines`] : [])].join("\n"));
    }
  }
  const text = capped(blocks, (hidden) => `... ${hidden} more sections not shown: the review is cut at ${LIMITS.totalChars} characters`);
  return redact(text, review.secrets);
}

function stackBlock(stack: StackReview): string {
  const head = `\nstack ${stack.stack}: ${stackSummary(stack)}`;
  if (!hasChanges(stack)) return head;
  const restarts = restartLine(stack);
  const outputs = outputLines(stack);
  return [
    head,
    ...stepLines(stack),
    ...(restarts ? [restarts] : []),
    ...(outputs.length > 0 ? ["outputs:", ...outputs.map((line) => `    ${line}`)] : []),
  ].join("\n");
}
