import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { projectRoot } from "../lib/project-root";
import { runCli } from "../lib/run-cli";
import { userPath } from "../lib/user-path";
import { buildReview, type StackSides } from "./review/diff";
import { BadRevisionError, checkoutRevision, evaluateSide, resolveRevision, stacksIn } from "./review/evaluate-rev";
import { renderMarkdown } from "./review/render-markdown";
import { renderText } from "./review/render-text";

const USAGE = `usage: npm run review -- --base REV [--stack NAME ...] [--format text|markdown] [--out FILE]

What a deploy of the work tree would change, per stack, against a deploy of REV: the steps the
engine would take (as npm run plan prints them), the instances that restart, each changed script
or tool file once as a diff, and the stack outputs that change. Both programs are evaluated, each
with its own code; nothing connects to a host.
  --base REV       the revision deployed now (a commit, branch or tag)
  --stack NAME     review only this stack (repeatable; default every Pulumi.<stack>.yaml on either side)
  --format FORMAT  text (default, for a terminal) or markdown (for a PR comment)
  --out FILE       also write the review to FILE

Relative paths are taken from the directory npm was run in.`;

/** Two evaluations at once: the machine's two cores. */
const CONCURRENCY = 2;

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        base: { type: "string" },
        stack: { type: "string", multiple: true, default: [] },
        format: { type: "string", default: "text" },
        out: { type: "string" },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.base === undefined || values.base === "") {
    console.error(USAGE);
    return 2;
  }
  if (values.format !== "text" && values.format !== "markdown") {
    console.error(`review: --format ${values.format}: expected text or markdown`);
    return 2;
  }
  const root = projectRoot();
  const commit = resolveRevision(root, values.base);
  const checkout = checkoutRevision(root, commit);
  try {
    const available = [...new Set([...stacksIn(checkout.dir), ...stacksIn(root)])].sort();
    const unknown = values.stack.filter((stack) => !available.includes(stack));
    if (unknown.length > 0) {
      console.error(`review: --stack ${unknown.join(", ")}: no Pulumi.<stack>.yaml on either side (stacks: ${available.join(", ")})`);
      return 2;
    }
    const stacks = values.stack.length > 0 ? [...new Set(values.stack)] : available;
    // A sandbox stack reads the sandbox's connection: both sides read the same, a running sandbox's
    // or else the fixture's, so a review needs no sandbox and shows no connection change.
    const env = { ...process.env, SPARKS_SANDBOX_DIR: process.env.SPARKS_SANDBOX_DIR ?? sandboxDir(root) };
    const jobs = stacks.flatMap((stack) =>
      [checkout.dir, root].map((dir) => () => (existsSync(path.join(dir, `Pulumi.${stack}.yaml`)) ? evaluateSide(dir, stack, { env }) : Promise.resolve(undefined))),
    );
    const results = await limited(jobs, CONCURRENCY);
    const sides: StackSides[] = stacks.map((stack, i) => ({ stack, base: results[2 * i], head: results[2 * i + 1] }));
    const label = `${values.base}${commit.startsWith(values.base) ? "" : ` (${commit.slice(0, 12)})`}`;
    const review = buildReview(label, sides);
    const output = values.format === "markdown" ? renderMarkdown(review) : renderText(review);
    process.stdout.write(output);
    if (values.out !== undefined) {
      const file = userPath(values.out);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, output);
    }
    return 0;
  } finally {
    checkout.remove();
  }
}

function sandboxDir(root: string): string {
  const own = path.join(root, ".sandbox");
  return existsSync(path.join(own, "connection.json")) ? own : path.join(root, "test/fixtures/sandbox-state");
}

/** Runs the jobs at most `width` at a time; results in the jobs' order. */
async function limited<T>(jobs: readonly (() => Promise<T>)[], width: number): Promise<T[]> {
  const results = new Array<T>(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, worker));
  return results;
}

runCli(main, [BadRevisionError], (error) => (error instanceof Error ? error.message : error));
