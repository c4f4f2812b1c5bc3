// Times spark-redis forks against an RDB dump-and-restore copy on a fresh sandbox host: apply the
// sandbox stack (btrfs + redis only, on ports of its own), then host-tools/bench/redis-fork-bench.sh
// on it: an instance with --keys keys (default 1 000 000) under redis-benchmark write load
// throughout, forked --runs times (default 5; fork-to-ready = command start until the fork answers
// DBSIZE >= keys with its own credentials), then the baseline on the same loaded source. Prints a
// table and writes bench/results/redis-fork.json.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { posixQuote } from "../lib/shell-quote";
import { openSandboxSession } from "../sandbox";
import { BenchSandbox, median, ROOT } from "./lib/bench-sandbox";

const SANDBOX = new BenchSandbox("redis");
const STATE_DIR = SANDBOX.stateDir;
/** Apart from the sandbox stack's (26300-26319) and the tool test's (26320-26339): sandboxes share the machine's network. */
const PORTS = { from: 26400, to: 26418 };
const BASELINE_PORT = 26419;
const SOURCE = "bench";
const TARGET_S = 0.5;

interface ForkRun {
  run: number;
  ready_s: number;
  command_s: number;
  fork_keys: number;
  source_ops_per_sec: number;
  source_incr_aof_bytes: number;
  timings_ms: Record<string, number>;
}

interface Baseline {
  baseline: string;
  ready_s: number;
  dump_s: number;
  load_s: number;
  rdb_bytes: number;
  keys: number;
}

async function main() {
  const { values } = parseArgs({
    options: {
      keys: { type: "string", default: "1000000" },
      runs: { type: "string", default: "5" },
      maxmemory: { type: "string", default: "2G" },
      "disk-size": { type: "string", default: "8G" },
    },
  });
  const keys = Number(values.keys);
  const runs = Math.max(5, Number(values.runs));
  mkdirSync(STATE_DIR, { recursive: true });
  // redis only, its instances replaced by the bench's source, on ports of its own
  SANDBOX.writeStack(["redis"], ([host]) => {
    host.redis.ports = PORTS;
    host.redis.maxmemory = values.maxmemory;
    host.redis.instances = [{ name: SOURCE }];
  });
  const lines: any[] = [];
  let applySeconds = 0;
  await SANDBOX.up(values["disk-size"]);
  try {
    applySeconds = (await SANDBOX.apply()).seconds;
    console.log(`apply: ${applySeconds.toFixed(1)} s`);
    const session = await openSandboxSession(STATE_DIR);
    try {
      const script = readFileSync(path.join(ROOT, "host-tools/bench/redis-fork-bench.sh"), "utf8");
      await session.exec("cat > /root/redis-fork-bench.sh && chmod 755 /root/redis-fork-bench.sh", { stdin: script });
      const result = await session.exec(`/root/redis-fork-bench.sh ${posixQuote(SOURCE)} ${keys} ${runs} ${BASELINE_PORT}`, {
        onStderr: (chunk) => process.stderr.write(chunk),
      });
      if (result.code !== 0) throw new Error(`redis-fork-bench.sh exited ${result.code}:\n${result.stdout}${result.stderr}`);
      for (const line of result.stdout.split("\n").filter((l) => l.trim() !== "")) lines.push(JSON.parse(line));
    } finally {
      session.close();
    }
  } finally {
    await SANDBOX.down();
  }

  const source = lines[0] as { keys: number; used_memory: number; aof_base_bytes: number };
  const forks = lines.filter((l) => "run" in l) as ForkRun[];
  const baseline = lines.find((l) => "baseline" in l) as Baseline;
  const readies = forks.map((f) => f.ready_s);
  const stepNames = [...new Set(forks.flatMap((f) => Object.keys(f.timings_ms)))];
  const steps = Object.fromEntries(stepNames.map((s) => [s, median(forks.map((f) => f.timings_ms[s] ?? 0))]));
  const result = {
    measured_at: new Date().toISOString(),
    machine: { cpus: cpus().length, note: "2 vCPUs shared with two other engineers' sandboxes and builds; btrfs on a loop device" },
    source: { keys: source.keys, used_memory_bytes: source.used_memory, aof_base_bytes: source.aof_base_bytes, load: "redis-benchmark -t set -r KEYS -d 100 -c 4, throughout" },
    apply_s: Math.round(applySeconds * 10) / 10,
    fork_ready_s: readies,
    fork_ready_s_median: median(readies),
    fork_steps_ms_median: steps,
    forks,
    baseline,
    target_s: TARGET_S,
    target_met: median(readies) <= TARGET_S,
    every_fork_complete: forks.every((f) => f.fork_keys >= keys),
  };
  console.table({
    "spark-redis fork": { "ready median s": result.fork_ready_s_median, "ready s": readies.join(" "), keys: Math.min(...forks.map((f) => f.fork_keys)) },
    [baseline.baseline]: { "ready median s": baseline.ready_s, "ready s": `${baseline.ready_s} (dump ${baseline.dump_s} + load ${baseline.load_s})`, keys: baseline.keys },
  });
  console.log(`median fork steps (ms): ${JSON.stringify(steps)}`);
  console.log(`target ${TARGET_S} s: ${result.target_met ? "met" : "NOT met"}`);
  mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(path.join(ROOT, "bench/results/redis-fork.json"), `${JSON.stringify(result, null, 2)}\n`);
  if (!result.every_fork_complete) {
    console.error("a fork held fewer keys than the source was filled with");
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
