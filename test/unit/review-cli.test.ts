import { execFile, execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "../..");
const repo = mkdtempSync(path.join(tmpdir(), "sparks-review-cli-"));
afterAll(() => rmSync(repo, { recursive: true, force: true }));

const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=sparks", "-c", "user.email=sparks@example.invalid", ...args], { cwd: repo, encoding: "utf8" });

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run review` in the scratch repository, as a reviewer runs it there. */
function review(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(path.join(repo, "node_modules/.bin/tsx"), ["apply/review-cli.ts", ...args], { cwd: repo, encoding: "utf8", env: { ...process.env, INIT_CWD: repo } }, (_error, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

let run: Run;

beforeAll(async () => {
  // A repository of this work tree as it is (uncommitted edits included), committed as the base;
  // the change under review stays uncommitted in its work tree, as a reviewer's would.
  const files = execFileSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: ROOT, encoding: "utf8" }).split("\0").filter((f) => f !== "" && f !== "node_modules");
  for (const file of files) {
    mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
    cpSync(path.join(ROOT, file), path.join(repo, file));
  }
  symlinkSync(realpathSync(path.join(ROOT, "node_modules")), path.join(repo, "node_modules"));
  git("init", "-q");
  git("add", "-A", ".");
  git("commit", "-qm", "base");
  const prod = path.join(repo, "Pulumi.prod.yaml");
  writeFileSync(prod, readFileSync(prod, "utf8").replace(/maxmemory: 4G/g, "maxmemory: 8G"));
  run = await review(["--base", "HEAD", "--stack", "prod", "--format", "markdown", "--out", "review.md"]);
}, 120_000);

describe("npm run review against a base revision", () => {
  it("evaluates the base and the work tree and prints the one-value change as a PR comment", () => {
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^### Review: `HEAD \([0-9a-f]{12}\)` → work tree\n/);
    expect(run.stdout).toMatch(/^#### prod: 6 to update, \d+ to leave unchanged$/m);
    expect(run.stdout).toContain("~ update prod-1-redis-instance-main\n    SETTINGS: maxmemory=4G -> maxmemory=8G\n    applies as: SETTINGS: restarts the instance\n");
    expect(run.stdout).toContain("verifyManifest.hosts[1].redis.maxmemory: 4294967296 -> 8589934592");
    expect(run.stdout).not.toContain("Changed files");
  });

  it("writes the same review to --out, relative to where it was typed", () => {
    expect(readFileSync(path.join(repo, "review.md"), "utf8")).toBe(run.stdout);
  });

  it("leaves the repository as it was: the base is extracted elsewhere", () => {
    expect(git("status", "--porcelain")).toBe(" M Pulumi.prod.yaml\n?? review.md\n");
    expect(git("worktree", "list").trim().split("\n")).toHaveLength(1);
  });

  it("refuses a revision that names no commit, naming it, with exit code 2", async () => {
    const bad = await review(["--base", "no-such-branch"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--base no-such-branch: not a commit");
    expect(bad.stdout).toBe("");
  });

  it("refuses a missing --base, an unknown format or an unknown stack with exit code 2", async () => {
    const [none, format, stack] = await Promise.all([review([]), review(["--base", "HEAD", "--format", "html"]), review(["--base", "HEAD", "--stack", "staging"])]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("usage: npm run review -- --base REV");
    expect(format.code).toBe(2);
    expect(format.stderr).toContain("--format html: expected text or markdown");
    expect(stack.code).toBe(2);
    expect(stack.stderr).toContain("--stack staging: no Pulumi.<stack>.yaml on either side (stacks: dev, prod, sandbox)");
  });
});
