import { execFile } from "node:child_process";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { configDiff, fold, MAX_VALUE_CHARS } from "../../apply/stack-diff";

const ROOT = path.resolve(__dirname, "../..");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run diff -- ARGS` as an operator runs it: a fresh process, the real program, the stacks' own files. */
function runDiff(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(path.join(ROOT, "node_modules/.bin/tsx"), ["apply/stack-diff-cli.ts", ...args], { cwd: ROOT, encoding: "utf8" }, (_error, stdout, stderr) =>
      resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

let devProd: Run;
beforeAll(async () => {
  devProd = await runDiff(["dev", "prod"]);
}, 120_000);

describe("npm run diff: how two stacks differ", () => {
  it("shows dev -> prod as config paths, then the resources only one has and the parameters that differ (snapshot)", async () => {
    expect(devProd.stderr).toBe("");
    expect(devProd.code).toBe(0);
    await expect(devProd.stdout).toMatchFileSnapshot("__snapshots__/diff-dev-prod.txt");
  });

  it("pairs resources across stacks by their names with host and stack names as config paths", () => {
    expect(devProd.stdout).toContain("  {hosts[0].name} = dev-1 -> prod-1\n  {hosts[1].name} = (none) -> prod-2\n");
    expect(devProd.stdout).toMatch(/^ {2}~ \{hosts\[0\]\.name\}-spark-pg-tool\n(?: {6}.*\n)* {6}CONFIG_JSON\.fork_limit_bytes: 21474836480 -> 107374182400$/m);
    expect(devProd.stdout).toContain("  + {hosts[1].name}-data-format\n");
    expect(devProd.stdout).toContain("  - {hosts[0].name}-kvm (sparks:kvm:KvmHost)\n");
    // A guest's own name that contains the host's is a name of its own, not the host's.
    expect(devProd.stdout).toContain("  - {hosts[0].name}-kvm-guest-spark-dev-1 (sparks:kvm:KvmGuest)\n");
  });

  it("keeps every line bounded: long values are folded", () => {
    const longest = Math.max(...devProd.stdout.split("\n").map((line) => line.length));
    expect(longest).toBeLessThanOrEqual(2 * MAX_VALUE_CHARS + 40);
    expect(devProd.stdout).toMatch(/^ {2}\+ hosts\[1\]: \{".*… \(\+\d+ chars\)$/m);
  });

  it("refuses anything but two stack names", async () => {
    const run = await runDiff(["dev"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^usage: npm run diff -- STACK_A STACK_B/);
  });
});

describe("configDiff", () => {
  it("names each changed leaf by its path, with both values", () => {
    expect(configDiff({ "sparks:hosts": [{ ssh: { address: "203.0.113.10" } }] }, { "sparks:hosts": [{ ssh: { address: "203.0.113.21" } }] })).toEqual([
      "~ hosts[0].ssh.address: 203.0.113.10 -> 203.0.113.21",
    ]);
  });

  it("says nothing of what is the same", () => {
    expect(configDiff({ "sparks:converge": "", "sparks:hosts": [{ name: "a" }] }, { "sparks:converge": "", "sparks:hosts": [{ name: "a" }] })).toEqual([]);
  });

  it("shows a path only one side has once, at its top", () => {
    expect(configDiff({ "sparks:hosts": [{ name: "a" }] }, { "sparks:hosts": [{ name: "a" }, { name: "b", packages: ["htop"] }], "sparks:converge": "1" })).toEqual([
      '+ hosts[1]: {"name":"b","packages":["htop"]}',
      "+ converge: 1",
    ]);
  });

  it("shows a secure value as [secret], never its ciphertext", () => {
    const lines = configDiff({ "sparks:sshPrivateKey": { secure: "v1:AAAAcipher" } }, { "sparks:hosts": [{ ssh: { privateKey: { secure: "v1:BBBBcipher" } } }] });
    expect(lines).toEqual(["- sshPrivateKey: [secret]", '+ hosts: [{"ssh":{"privateKey":"[secret]"}}]']);
    expect(lines.join("\n")).not.toContain("cipher");
  });

  it("folds a long value, saying how much it left out", () => {
    expect(fold("x".repeat(MAX_VALUE_CHARS + 7))).toBe(`${"x".repeat(MAX_VALUE_CHARS)}… (+7 chars)`);
    expect(fold("short")).toBe("short");
  });
});
