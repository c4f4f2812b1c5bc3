import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "../..");

/** The code every stack runs, and the engine and tools that run it. */
const SCANNED = ["stacks", "components", "verify", "apply", "lib"];

/**
 * Reads of the stack's name that branch on nothing: each names a file, a URN or a label. A new
 * read is a finding until it is listed here with its reason.
 */
const ALLOWED: { file: string; line: string; why: string }[] = [
  { file: "stacks/program.ts", line: "stack: pulumi.getStack(),", why: "the verify manifest says which stack it describes" },
  { file: "stacks/config.ts", line: "`Pulumi.${pulumi.getStack()}.yaml`", why: "the stack file, by its name" },
  { file: "components/component.ts", line: "`urn:pulumi:${pulumi.getStack()}::", why: "a URN, which contains the stack's name" },
];

const STACK_NAMES = "dev|prod|production|staging|sandbox|test|stage";
const q = "[\"'`]";

/** What reads or compares a stack's name; one finding per line. */
const PATTERNS: { what: string; pattern: RegExp }[] = [
  { what: "reads the stack's name", pattern: /(?<![\w.])getStack\s*\(|\bpulumi\s*\.\s*getStack\b|\bruntime\s*\.\s*getStack\b|\bPULUMI_STACK\b/ },
  { what: "compares with a stack's name", pattern: new RegExp(`[=!]==?\\s*${q}(?:${STACK_NAMES})${q}|${q}(?:${STACK_NAMES})${q}\\s*[=!]==?`) },
  { what: "switches on a stack's name", pattern: new RegExp(`\\bcase\\s+${q}(?:${STACK_NAMES})${q}\\s*:`) },
  { what: "matches a stack's name", pattern: new RegExp(`\\.(?:includes|startsWith|endsWith)\\(\\s*${q}(?:${STACK_NAMES})${q}|/\\^?(?:${STACK_NAMES})\\$?/[gimsuy]*\\.test\\(`) },
];

/** Findings in one source text, as `file:line: what: the line`. Comments say what they like. */
function stackNameBranches(file: string, source: string): string[] {
  return source.split("\n").flatMap((raw, i) => {
    const line = raw.replace(/\/\/.*$/, "");
    if (/^\s*(?:\/?\*|\/\*)/.test(line)) return [];
    const found = PATTERNS.find(({ pattern }) => pattern.test(line));
    if (!found || ALLOWED.some((allowed) => allowed.file === file && line.includes(allowed.line))) return [];
    return [`${file}:${i + 1}: ${found.what}: ${raw.trim()}`];
  });
}

function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(relative);
    return /\.(?:ts|js|mjs|cjs)$/.test(entry.name) ? [relative] : [];
  });
}

describe("no code branches on the stack's name: stacks differ in config only", () => {
  it.each(SCANNED)("%s/ neither compares nor switches on a stack's name", (dir) => {
    expect(sources(dir).flatMap((file) => stackNameBranches(file, readFileSync(path.join(ROOT, file), "utf8")))).toEqual([]);
  });

  it("each allowed read is still where it is listed (a stale entry would allow a new one)", () => {
    for (const allowed of ALLOWED) expect(readFileSync(path.join(ROOT, allowed.file), "utf8")).toContain(allowed.line);
  });

  it("names file and line of a branch on the stack's name, in each form", () => {
    const source = [
      'import * as pulumi from "@pulumi/pulumi";',
      "const stack = pulumi.getStack();",
      'if (stack === "prod") protect = true;',
      'const size = "dev" == stack ? "10G" : "1T";',
      "switch (stack) {",
      '  case "sandbox":',
      "}",
      'if (name.startsWith("prod")) replicas = 2;',
      "if (/^prod$/.test(stack)) replicas = 3;",
      "const other = getStack();",
      "// a comment may say pulumi.getStack() and \"prod\" === stack",
      "const fine = config.protect === true;",
    ].join("\n");
    expect(stackNameBranches("stacks/example.ts", source)).toEqual([
      "stacks/example.ts:2: reads the stack's name: const stack = pulumi.getStack();",
      'stacks/example.ts:3: compares with a stack\'s name: if (stack === "prod") protect = true;',
      'stacks/example.ts:4: compares with a stack\'s name: const size = "dev" == stack ? "10G" : "1T";',
      'stacks/example.ts:6: switches on a stack\'s name: case "sandbox":',
      'stacks/example.ts:8: matches a stack\'s name: if (name.startsWith("prod")) replicas = 2;',
      "stacks/example.ts:9: matches a stack's name: if (/^prod$/.test(stack)) replicas = 3;",
      "stacks/example.ts:10: reads the stack's name: const other = getStack();",
    ]);
  });

  it("allows a listed read only in its own file", () => {
    expect(stackNameBranches("stacks/other.ts", "    stack: pulumi.getStack(),")).toEqual(["stacks/other.ts:1: reads the stack's name: stack: pulumi.getStack(),"]);
  });
});
