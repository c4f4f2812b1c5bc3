// Times the deploy flow on a fresh sandbox host, several rounds: the first apply (packages
// installed, volume formatted and mounted, subvolumes made), an idempotent re-apply, and verify.
// Prints a table of each round and the medians, and writes bench/results/deploy.json.
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { BenchSandbox, median, ROOT } from "./lib/bench-sandbox";

/** The whole sandbox stack, as a developer's `npm run sandbox` host gets it. */
const SANDBOX = new BenchSandbox("");

interface Round {
  first_apply_s: number;
  reapply_s: number;
  reapply_changed: number;
  verify_s: number;
}

async function round(): Promise<Round> {
  await SANDBOX.up("4G");
  try {
    const first = await SANDBOX.apply();
    const again = await SANDBOX.apply();
    const changed = Number(/^done: \d+ ran, (\d+) changed/m.exec(again.output)?.[1] ?? NaN);
    const check = await SANDBOX.verify();
    return { first_apply_s: first.seconds, reapply_s: again.seconds, reapply_changed: changed, verify_s: check.seconds };
  } finally {
    await SANDBOX.down();
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
