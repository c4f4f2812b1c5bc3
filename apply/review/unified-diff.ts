/** One hunk of a unified diff: its `@@` line, then its lines (` `, `-`, `+`). */
export interface Hunk {
  header: string;
  lines: string[];
}

const CONTEXT = 3;
/** Above this many cells of the edit table the changed middle is shown as removed, then added. */
const MAX_CELLS = 4_000_000;

/** The lines of `a` and `b` as a unified diff (`diff -u`, 3 lines of context), without file headers. */
export function unifiedDiff(a: string, b: string): Hunk[] {
  const [olds, news] = [lines(a), lines(b)];
  const ops = editScript(olds, news);
  const hunks: Hunk[] = [];
  let i = 0;
  while (i < ops.length) {
    if (ops[i].op === " ") {
      i++;
      continue;
    }
    let start = Math.max(0, i - CONTEXT);
    let end = i;
    // Extend over changes separated by at most 2 x CONTEXT unchanged lines.
    for (;;) {
      while (end < ops.length && ops[end].op !== " ") end++;
      let next = end;
      while (next < ops.length && ops[next].op === " ") next++;
      if (next < ops.length && next - end <= 2 * CONTEXT) end = next;
      else break;
    }
    const stop = Math.min(ops.length, end + CONTEXT);
    const slice = ops.slice(start, stop);
    const oldStart = slice[0].oldLine;
    const newStart = slice[0].newLine;
    const oldCount = slice.filter((o) => o.op !== "+").length;
    const newCount = slice.filter((o) => o.op !== "-").length;
    hunks.push({ header: `@@ -${range(oldStart, oldCount)} +${range(newStart, newCount)} @@`, lines: slice.map((o) => `${o.op}${o.text}`) });
    i = stop;
    start = stop;
  }
  return hunks;
}

const range = (start: number, count: number) => (count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`);

function lines(text: string): string[] {
  if (text === "") return [];
  const all = text.split("\n");
  return text.endsWith("\n") ? all.slice(0, -1) : all;
}

interface Op {
  op: " " | "-" | "+";
  text: string;
  /** 1-based line numbers this op sits at in the old and the new text. */
  oldLine: number;
  newLine: number;
}

/** A shortest edit script by longest common subsequence, after the common head and tail are taken off. */
function editScript(olds: string[], news: string[]): Op[] {
  let head = 0;
  while (head < olds.length && head < news.length && olds[head] === news[head]) head++;
  let tail = 0;
  while (tail < olds.length - head && tail < news.length - head && olds[olds.length - 1 - tail] === news[news.length - 1 - tail]) tail++;
  const a = olds.slice(head, olds.length - tail);
  const b = news.slice(head, news.length - tail);
  const middle: ("=" | "-" | "+")[] = [];
  if (a.length * b.length > MAX_CELLS) {
    middle.push(...a.map(() => "-" as const), ...b.map(() => "+" as const));
  } else {
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    const width = b.length + 1;
    const lcs = new Uint32Array((a.length + 1) * width);
    for (let i = a.length - 1; i >= 0; i--) {
      for (let j = b.length - 1; j >= 0; j--) {
        lcs[i * width + j] = a[i] === b[j] ? lcs[(i + 1) * width + j + 1] + 1 : Math.max(lcs[(i + 1) * width + j], lcs[i * width + j + 1]);
      }
    }
    let [i, j] = [0, 0];
    while (i < a.length || j < b.length) {
      if (i < a.length && j < b.length && a[i] === b[j]) {
        middle.push("=");
        i++;
        j++;
      } else if (j < b.length && (i === a.length || lcs[i * width + j + 1] >= lcs[(i + 1) * width + j])) {
        middle.push("+");
        j++;
      } else {
        middle.push("-");
        i++;
      }
    }
  }
  // Removals before additions within a run of changes, as diff -u prints them.
  const ops: Op[] = [];
  let [o, n] = [0, 0];
  const push = (op: Op["op"], text: string) => {
    ops.push({ op, text, oldLine: o + 1, newLine: n + 1 });
    if (op !== "+") o++;
    if (op !== "-") n++;
  };
  for (let k = 0; k < head; k++) push(" ", olds[k]);
  for (let k = 0; k < middle.length; ) {
    if (middle[k] === "=") {
      push(" ", olds[o]);
      k++;
      continue;
    }
    let end = k;
    while (end < middle.length && middle[end] !== "=") end++;
    const removed = middle.slice(k, end).filter((m) => m === "-").length;
    const added = end - k - removed;
    const [oldAt, newAt] = [o, n];
    for (let r = 0; r < removed; r++) push("-", olds[oldAt + r]);
    n = newAt;
    for (let r = 0; r < added; r++) push("+", news[newAt + r]);
    k = end;
  }
  for (let k = 0; k < tail; k++) push(" ", olds[o]);
  return ops;
}
