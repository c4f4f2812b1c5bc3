import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "../..");

/** What we run or tell people to run: the docs, the benches, the tools, the host scripts. */
function ourFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return ["node_modules", "test"].includes(entry.name) || entry.name.startsWith(".") ? [] : ourFiles(full);
    return /\.(md|ts|py|sh)$/.test(entry.name) || ["spark-pg", "spark-redis", "run"].includes(entry.name) ? [full] : [];
  });
}

// A URI printed into `$(...)` becomes an argument: /proc/PID/cmdline, which every local user can read.
const URI_AS_ARGUMENT = [/\$\([^)]*\bconnect\b[^)]*--uri/, /\[[^\]]*"connect"[^\]]*"--uri"/];

describe("no password on a command line", () => {
  const files = [ROOT, ...["bench", "docs", "host-tools", "components", "tools", "verify"].map((dir) => path.join(ROOT, dir))].flatMap((dir) =>
    dir === ROOT ? readdirSync(ROOT).filter((f) => f.endsWith(".md")).map((f) => path.join(ROOT, f)) : ourFiles(dir),
  );

  it("looks at the benches and the docs", () => {
    expect(files.map((f) => path.relative(ROOT, f))).toEqual(expect.arrayContaining(["README.md", "docs/hosts.md", "docs/operating.md", "host-tools/README.md", "bench/fork.ts", "host-tools/bench/fork-bench.py"]));
  });

  it.each([
    ["pgbench $(spark-pg connect main --uri)", true],
    ['subprocess.run([tool, "connect", name, "--uri"])', true],
    ["spark-pg connect main --run -- pgbench", false],
  ])("the check itself: %s is caught: %s", (line, caught) => {
    expect(URI_AS_ARGUMENT.some((pattern) => pattern.test(line))).toBe(caught);
  });

  it("no connect --uri is expanded into a command", () => {
    const found = files.flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        .map((line, i) => ({ at: `${path.relative(ROOT, file)}:${i + 1}`, line }))
        .filter(({ line }) => URI_AS_ARGUMENT.some((pattern) => pattern.test(line))),
    );
    expect(found).toEqual([]);
  });
});
