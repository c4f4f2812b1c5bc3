// Times the deploy flow on a fresh sandbox host, several rounds: the first apply (packages
// installed, volume formatted and mounted, subvolumes made), an idempotent re-apply, and verify.
// Prints a table of each round and the medians, and writes bench/results/deploy.json.
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { projectRoot } from "../lib/project-root";
import { sandboxDown, sandboxUp } from "../sandbox";

const ROOT = projectRoot();
const STATE_DIR = path.join(ROOT, ".sandbox-bench");
/** The bench's own manifest, next to its sandbox: `.sparks/sandbox/` is the developer's. */
const MANIFEST = path.join(STATE_DIR, "verify-manifest.json");
const TSX = path.join(ROOT, "node_modules/.bin/tsx");

interface Round {
  first_apply_s: number;
  reapply_s: number;
  reapply_changed: number;
  verify_s: number;
}

function timed(script: string, args: string[]): Promise<{ seconds: number; output: string }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const { INIT_CWD: _startedIn, ...env } = process.env;
    execFile(TSX, [script, ...args], { cwd: ROOT, env: { ...env, SPARKS_SANDBOX_DIR: STATE_DIR } }, (error, stdout, stderr) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (error) reject(new Error(`${script} ${args.join(" ")} failed:\n${stdout}${stderr}`));
      else resolve({ seconds, output: stdout });
    });
  });
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

async function round(): Promise<Round> {
  await sandboxUp({ stateDir: STATE_DIR, diskSize: "4G" });
  try {
    const apply = ["apply", "--stack", "sandbox", "--manifest-out", MANIFEST];
    const first = await timed("apply/cli.ts", apply);
    const again = await timed("apply/cli.ts", apply);
    const changed = Number(/^done: \d+ ran, (\d+) changed/m.exec(again.output)?.[1] ?? NaN);
    const check = await timed("verify/cli.ts", ["--manifest", MANIFEST]);
    return { first_apply_s: first.seconds, reapply_s: again.seconds, reapply_changed: changed, verify_s: check.seconds };
  } finally {
    await sandboxDown({ stateDir: STATE_DIR });
  }
}

async function main() {
  const { values } = parseArgs({ options: { rounds: { type: "string", default: "5" } } });
  const rounds: Round[] = [];
  for (let i = 0; i < Number(values.rounds); i++) {
    rounds.push(await round());
    const r = rounds[rounds.length - 1];
    console.log(`round ${i + 1}: first apply ${r.first_apply_s.toFixed(2)} s, re-apply ${r.reapply_s.toFixed(2)} s (${r.reapply_changed} changed), verify ${r.verify_s.toFixed(2)} s`);
  }
  const summary = {
    first_apply_s_median: median(rounds.map((r) => r.first_apply_s)),
    reapply_s_median: median(rounds.map((r) => r.reapply_s)),
    verify_s_median: median(rounds.map((r) => r.verify_s)),
  };
  console.table({ median: summary });
  mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(path.join(ROOT, "bench/results/deploy.json"), `${JSON.stringify({ rounds, ...summary }, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
