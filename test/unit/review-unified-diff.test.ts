import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { unifiedDiff } from "../../apply/review/unified-diff";

const dir = mkdtempSync(path.join(tmpdir(), "sparks-unified-diff-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What `diff -u` prints for the two texts, without its two file header lines. */
function systemDiff(a: string, b: string): string {
  writeFileSync(path.join(dir, "a"), a);
  writeFileSync(path.join(dir, "b"), b);
  try {
    execFileSync("diff", ["-u", path.join(dir, "a"), path.join(dir, "b")], { encoding: "utf8" });
    return "";
  } catch (error) {
    return (error as { stdout: string }).stdout.split("\n").slice(2).join("\n");
  }
}

const ours = (a: string, b: string) => unifiedDiff(a, b).flatMap((hunk) => [hunk.header, ...hunk.lines].map((line) => `${line}\n`)).join("");

const text = (lines: string[]) => lines.map((line) => `${line}\n`).join("");
const numbered = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`);

describe("unified diff of a changed file", () => {
  it("is empty for the same text", () => {
    expect(unifiedDiff("a\nb\n", "a\nb\n")).toEqual([]);
  });

  it("shows one changed line with 3 lines of context, as diff -u does", () => {
    const olds = numbered(20);
    const news = olds.map((line, i) => (i === 9 ? "changed" : line));
    expect(ours(text(olds), text(news))).toBe("@@ -7,7 +7,7 @@\n line 7\n line 8\n line 9\n-line 10\n+changed\n line 11\n line 12\n line 13\n");
  });

  it.each([
    ["an insertion at the top", numbered(10), ["new", ...numbered(10)]],
    ["a removal at the end", numbered(10), numbered(8)],
    ["two changes far apart (two hunks)", numbered(40), numbered(40).map((l, i) => (i === 3 || i === 30 ? `${l}!` : l))],
    ["two changes close together (one hunk)", numbered(40), numbered(40).map((l, i) => (i === 10 || i === 15 ? `${l}!` : l))],
    ["a file that becomes empty", numbered(5), []],
    ["a new file", [], numbered(5)],
  ])("matches diff -u for %s", (_name, olds, news) => {
    expect(ours(text(olds), text(news))).toBe(systemDiff(text(olds), text(news)));
  });
});
