import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { ResourceGoal } from "../engine/types";

/** One side of a review: the program of one checkout evaluated for one stack. */
export interface EvaluatedSide {
  /** Every resource the program registered, as the engine receives it. */
  goals: ResourceGoal[];
  /** The stack outputs in wire form. */
  outputs: Record<string, unknown>;
  /** What each shipped asset or archive holds (the bundle), by its path as an input names it: file -> text. */
  archives: Record<string, Record<string, string>>;
  /** Secret values the config provided: what the review must never print. */
  secretValues: string[];
}

/** The stacks a checkout declares: every `Pulumi.<stack>.yaml` at its top level. */
export function stacksIn(root: string): string[] {
  return readdirSync(root)
    .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
    .filter((stack): stack is string => stack !== undefined)
    .sort();
}

export class BadRevisionError extends Error {}

/** The commit `rev` names in the repository at `root`, or a BadRevisionError that names it. */
export function resolveRevision(root: string, rev: string): string {
  try {
    return execFileSync("git", ["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    throw new BadRevisionError(`review: --base ${rev}: not a commit in ${root}`);
  }
}

/**
 * The tree of `commit` extracted into a temporary directory (git archive: the work tree and its
 * index stay untouched), with node_modules linked to this work tree's install. Returns the
 * directory and a function that removes it.
 */
export function checkoutRevision(root: string, commit: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), "sparks-review-"));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const archive = execFileSync("git", ["archive", "--format=tar", commit], { cwd: root, maxBuffer: 1 << 30 });
    execFileSync("tar", ["-x", "-C", dir], { input: archive });
    if (!existsSync(path.join(dir, "node_modules"))) symlinkSync(realpathSync(path.join(root, "node_modules")), path.join(dir, "node_modules"));
  } catch (error) {
    remove();
    throw error;
  }
  return { dir, remove };
}

/**
 * Evaluates the program at `root` for `stack` in a child process with that checkout's own code
 * (apply/review/evaluate-entry.ts): the mock runtime is global, one evaluation per process.
 * `configFile` replaces the checkout's `Pulumi.<stack>.yaml`.
 */
export function evaluateSide(root: string, stack: string, options: { env?: NodeJS.ProcessEnv; configFile?: string } = {}): Promise<EvaluatedSide> {
  const tools = path.resolve(__dirname, "../..");
  const out = path.join(mkdtempSync(path.join(tmpdir(), "sparks-review-side-")), "side.json");
  return new Promise((resolve, reject) =>
    execFile(
      path.join(tools, "node_modules/.bin/tsx"),
      [path.join(__dirname, "evaluate-entry.ts"), root, stack, out, ...(options.configFile === undefined ? [] : [options.configFile])],
      { cwd: root, env: options.env ?? process.env, maxBuffer: 64 << 20 },
      (error, _stdout, stderr) => {
        try {
          if (error) reject(new Error(`evaluating stack ${stack} at ${root} failed:\n${stderr.trim()}`));
          else resolve(JSON.parse(readFileSync(out, "utf8")) as EvaluatedSide);
        } finally {
          rmSync(path.dirname(out), { recursive: true, force: true });
        }
      },
    ),
  );
}
