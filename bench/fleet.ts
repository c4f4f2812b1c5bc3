// Fleet scale. (1) Plan: the first-deploy plan (`npm run plan -- --full`) of generated stacks of
// 1, 10, 50 and 100 hosts, each prod's layout (its sparks:hostDefaults) with a name, address and
// disk of its own; each size in a fresh process, so time and peak memory are that size's alone.
// (2) Verify: the sandbox's one host listed N times (1, 5, 20) under different names in the verify
// manifest `npm run apply -- --stack sandbox` wrote; skipped without that manifest. Prints tables
// and writes bench/results/fleet.json.
//   npm run bench:fleet -- [--plan-only | --verify-only] [--sizes 1,10,50,100] [--rounds 3] [--verify-sizes 1,5,20]
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parse, stringify } from "yaml";
import { median, ROOT } from "./lib/bench-sandbox";

const TSX = path.join(ROOT, "node_modules/.bin/tsx");
const WORK = path.join(ROOT, ".sparks", "bench-fleet");
const RESULTS = path.join(ROOT, "bench/results/fleet.json");
const SANDBOX_MANIFEST = path.join(ROOT, ".sparks", "sandbox", "verify-manifest.json");
/** The 100-host plan should take a few seconds; 20 hosts' verify within 2x one host's. */
const PLAN_TARGET_S = 5;
const VERIFY_TARGET_RATIO = 2;

/** What one child process measured of one plan (bench/lib/fleet-plan-child.ts). */
export interface PlanRun {
  hosts: number;
  resources: number;
  plan_lines: number;
  /** The child's life: process start, tsx, imports, the plan, as `npm run plan` takes it. */
  wall_s: number;
  read_config_s: number;
  evaluate_s: number;
  steps_s: number;
  render_s: number;
  /** CPU time of the child (user + system): steadier than wall time on a shared machine. */
  cpu_s: number;
  max_rss_mb: number;
  heap_used_peak_mb: number;
}

/**
 * `n` hosts of prod's layout: prod's hostDefaults, and prod-1's own entry with a name, SSH and listen
 * address (documentation ranges, RFC 5737) and disk id of each host's own.
 */
export function fleetStack(n: number): string {
  if (n < 1 || n > 254) throw new Error(`--sizes: ${n} hosts; the documentation ranges hold 1 to 254`);
  const prod = parse(readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, any> };
  const template = prod.config["sparks:hosts"][0];
  const hosts = Array.from({ length: n }, (_, i) => {
    const host = structuredClone(template);
    host.name = `fleet-${String(i + 1).padStart(3, "0")}`;
    host.ssh.address = `203.0.113.${i + 1}`;
    host.btrfs.volumes[0].device = `/dev/disk/by-id/nvme-SAMSUNG_MZ1L23T8HBLA-00A07_S667NE0T3${String(i + 1).padStart(5, "0")}`;
    host.sparkPg.listen = `198.51.100.${i + 1}`;
    host.redis.listen = `198.51.100.${i + 1}`;
    return host;
  });
  return stringify({ config: { "sparks:hostDefaults": prod.config["sparks:hostDefaults"], "sparks:hosts": hosts } });
}

/**
 * `tsx ARGS` in a fresh process, timed, with the CPU it and its children used: bash's `times`
 * after it, so a child's CPU is its own, apart from the host's or another process's.
 */
function runChild(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ seconds: number; stdout: string; code: number | null; cpuSeconds: number }> {
  const script = `"$0" "$@"; code=$?; times >&2; exit $code`;
  const started = process.hrtime.bigint();
  const { INIT_CWD: _startedIn, ...rest } = process.env;
  return new Promise((resolve, reject) => {
    const child = execFile("bash", ["-c", script, TSX, ...args], { cwd: ROOT, env: { ...rest, ...env }, maxBuffer: 256 << 20 }, (error, stdout, stderr) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // `times`: the shell's user/system time, then its children's: "0m1.234s 0m0.123s".
      const children = stderr.trim().split("\n").at(-1)?.match(/^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/);
      if ((error && child.exitCode === null) || !children) return reject(new Error(`${args.join(" ")}: ${error?.message ?? "no times output"}\n${stderr}`));
      const [, um, us, sm, ss] = children.map(Number) as number[];
      resolve({ seconds, stdout: stdout + (child.exitCode === 0 ? "" : stderr), code: child.exitCode, cpuSeconds: (um ?? 0) * 60 + (us ?? 0) + (sm ?? 0) * 60 + (ss ?? 0) });
    });
  });
}

async function planSizes(sizes: number[], rounds: number, env: NodeJS.ProcessEnv = {}) {
  mkdirSync(WORK, { recursive: true });
  const runs: PlanRun[] = [];
  for (const n of sizes) {
    const file = path.join(WORK, `Pulumi.fleet-${n}.yaml`);
    writeFileSync(file, fleetStack(n));
    for (let round = 0; round < rounds; round++) {
      const child = await runChild(["bench/lib/fleet-plan-child.ts", file, String(n)], env);
      if (child.code !== 0) throw new Error(`plan of ${n} hosts failed:\n${child.stdout}`);
      runs.push({ ...(JSON.parse(child.stdout.trim().split("\n").pop() as string) as PlanRun), wall_s: child.seconds });
      const r = runs[runs.length - 1];
      console.log(`${n} hosts, round ${round + 1}: ${r.wall_s.toFixed(2)} s (CPU ${r.cpu_s.toFixed(2)} s, evaluate ${r.evaluate_s.toFixed(2)} s), ${r.resources} resources, RSS ${r.max_rss_mb.toFixed(0)} MB`);
    }
  }
  const bySize = sizes.map((n) => {
    const mine = runs.filter((r) => r.hosts === n);
    const m = (key: keyof PlanRun) => median(mine.map((r) => r[key]));
    return {
      hosts: n,
      resources: mine[0].resources,
      plan_lines: mine[0].plan_lines,
      wall_s: m("wall_s"),
      cpu_s: m("cpu_s"),
      in_process_s: median(mine.map((r) => r.read_config_s + r.evaluate_s + r.steps_s + r.render_s)),
      evaluate_s: m("evaluate_s"),
      steps_s: m("steps_s"),
      render_s: m("render_s"),
      max_rss_mb: m("max_rss_mb"),
      heap_used_peak_mb: m("heap_used_peak_mb"),
    };
  });
  const at = (n: number) => bySize.find((s) => s.hosts === n);
  const one = at(1);
  // Per host: what a host adds over the one-host plan (the process and imports are paid once).
  const perHost = bySize
    .filter((s) => one !== undefined && s.hosts > 1)
    .map((s) => ({
      hosts: s.hosts,
      in_process_ms_per_host: ((s.in_process_s - (one?.in_process_s ?? 0)) / (s.hosts - 1)) * 1000,
      cpu_ms_per_host: ((s.cpu_s - (one?.cpu_s ?? 0)) / (s.hosts - 1)) * 1000,
      rss_mb_per_host: (s.max_rss_mb - (one?.max_rss_mb ?? 0)) / (s.hosts - 1),
    }));
  const ten = at(10);
  const hundred = at(100);
  // Linear growth: 100 hosts cost 10x what 10 do, in what the hosts add (minus the one-host base).
  const growth =
    one && ten && hundred
      ? {
          in_process_ratio_100_to_10: (hundred.in_process_s - one.in_process_s) / (ten.in_process_s - one.in_process_s),
          cpu_ratio_100_to_10: (hundred.cpu_s - one.cpu_s) / (ten.cpu_s - one.cpu_s),
          rss_ratio_100_to_10: (hundred.max_rss_mb - one.max_rss_mb) / (ten.max_rss_mb - one.max_rss_mb),
          linear_ratio: (100 - 1) / (10 - 1),
        }
      : undefined;
  return { rounds, by_size: bySize, per_host: perHost, growth, target_100_hosts_s: PLAN_TARGET_S, target_met: hundred ? hundred.wall_s <= PLAN_TARGET_S : undefined };
}

/**
 * The sandbox host N times: the manifest's one host under the names sandbox-1..N (the same address,
 * key and expectations), verified as `npm run verify -- --manifest FILE` does: every host at once.
 */
async function verifySizes(sizes: number[], rounds: number) {
  if (!existsSync(SANDBOX_MANIFEST)) {
    console.log(`verify: skipped, no sandbox manifest at ${path.relative(ROOT, SANDBOX_MANIFEST)}: run npm run sandbox -- up, then npm run apply -- --stack sandbox`);
    return { skipped: `no ${path.relative(ROOT, SANDBOX_MANIFEST)}` };
  }
  const manifest = JSON.parse(readFileSync(SANDBOX_MANIFEST, "utf8"));
  const [host] = manifest.hosts;
  const identityFile = host.ssh.identityFile === undefined ? undefined : path.resolve(path.dirname(SANDBOX_MANIFEST), host.ssh.identityFile);
  mkdirSync(WORK, { recursive: true });
  const runs: { hosts: number; round: number; seconds: number; client_cpu_s: number; cpu_busy_s: number; cpu_floor_s: number; passed: boolean }[] = [];
  for (const n of sizes) {
    const file = path.join(WORK, `verify-manifest-${n}.json`);
    const hosts = Array.from({ length: n }, (_, i) => ({ ...host, name: `${host.name}-${i + 1}`, ssh: { ...host.ssh, ...(identityFile ? { identityFile } : {}) } }));
    writeFileSync(file, `${JSON.stringify({ ...manifest, hosts }, null, 2)}\n`);
    for (let round = 0; round < rounds; round++) {
      const busyBefore = cpuBusySeconds();
      const child = await runChild(["verify/cli.ts", "--manifest", file, "--json"]);
      const cpuBusy = cpuBusySeconds() - busyBefore;
      runs.push({ hosts: n, round: round + 1, seconds: child.seconds, client_cpu_s: child.cpuSeconds, cpu_busy_s: cpuBusy, cpu_floor_s: cpuBusy / cpus().length, passed: child.code === 0 });
      console.log(
        `verify ${n} hosts, round ${round + 1}: ${child.seconds.toFixed(2)} s, verify's own CPU ${child.cpuSeconds.toFixed(2)} s, the machine's CPUs busy ${cpuBusy.toFixed(2)} s ` +
          `(floor ${(cpuBusy / cpus().length).toFixed(2)} s on ${cpus().length}), ${child.code === 0 ? "passed" : `FAILED (exit ${child.code})`}`,
      );
      if (child.code !== 0) console.log(child.stdout.slice(0, 4000));
    }
  }
  const bySize = sizes.map((n) => {
    const of = runs.filter((r) => r.hosts === n);
    const seconds = median(of.map((r) => r.seconds));
    const floor = median(of.map((r) => r.cpu_floor_s));
    return { hosts: n, seconds_median: seconds, client_cpu_s_median: median(of.map((r) => r.client_cpu_s)), cpu_busy_s_median: median(of.map((r) => r.cpu_busy_s)), cpu_floor_s_median: floor, ratio_to_cpu_floor: seconds / floor, all_passed: of.every((r) => r.passed) };
  });
  const first = bySize[0];
  const last = bySize[bySize.length - 1];
  const ratio = last.seconds_median / first.seconds_median;
  return {
    rounds,
    runs,
    by_size: bySize,
    ratio_largest_to_one: ratio,
    target_ratio: VERIFY_TARGET_RATIO,
    target_met: ratio <= VERIFY_TARGET_RATIO,
    floor_note:
      "The N hosts are one sandbox host, so it runs N hosts' checks (logins, psql, redis-cli, btrfs, virsh) on the same CPUs as the verify client. " +
      "cpu_floor_s = the CPU time the whole machine was busy during the run / its CPUs: no run on this machine can take less. A ratio to it near 1 means the run is CPU-bound here, not waiting on itself. " +
      "client_cpu_s = verify's own CPU (tsx, Node, the SSH client): the part a fleet does not spread over its hosts.",
  };
}

/** CPU time the whole machine spent busy (all CPUs, /proc/stat; idle and iowait left out), in seconds. */
function cpuBusySeconds(): number {
  const [, ...fields] = (readFileSync("/proc/stat", "utf8").split("\n")[0] as string).trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  return busy / 100;
}

const sizesOf = (list: string) => list.split(",").map((s) => Number(s.trim()));

async function main() {
  const { values } = parseArgs({
    options: {
      "plan-only": { type: "boolean", default: false },
      "verify-only": { type: "boolean", default: false },
      sizes: { type: "string", default: "1,10,50,100" },
      "verify-sizes": { type: "string", default: "1,5,20" },
      // The plan as it was before apply/evaluate.ts stopped taking stack traces, for comparison.
      "with-stack-traces": { type: "boolean", default: false },
      rounds: { type: "string", default: "3" },
    },
  });
  const rounds = Number(values.rounds);
  const previous = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, "utf8")) : {};
  if (values["verify-only"] && previous.plan === undefined) throw new Error(`--verify-only keeps the plan figures of ${path.relative(ROOT, RESULTS)}, which has none`);
  const plan = values["verify-only"] ? (previous.plan as Awaited<ReturnType<typeof planSizes>>) : await planSizes(sizesOf(values.sizes), rounds);
  console.table(
    Object.fromEntries(
      plan.by_size.map((s) => [
        `${s.hosts} hosts`,
        { resources: s.resources, "wall s": +s.wall_s.toFixed(2), "CPU s": +s.cpu_s.toFixed(2), "in-process s": +s.in_process_s.toFixed(2), "evaluate s": +s.evaluate_s.toFixed(2), "max RSS MB": Math.round(s.max_rss_mb), "heap peak MB": Math.round(s.heap_used_peak_mb) },
      ]),
    ),
  );
  for (const p of plan.per_host) console.log(`${p.hosts} hosts: ${p.cpu_ms_per_host.toFixed(1)} ms CPU, ${p.in_process_ms_per_host.toFixed(1)} ms in-process and ${p.rss_mb_per_host.toFixed(2)} MB RSS per host over the one-host plan`);
  if (plan.growth) console.log(`growth 100/10 hosts (over the one-host base): CPU x${plan.growth.cpu_ratio_100_to_10.toFixed(1)}, in-process time x${plan.growth.in_process_ratio_100_to_10.toFixed(1)}, RSS x${plan.growth.rss_ratio_100_to_10.toFixed(1)} (linear: x${plan.growth.linear_ratio})`);
  const withStackTraces = values["with-stack-traces"] ? await planSizes(sizesOf(values.sizes), 1, { SPARKS_EVAL_STACKS: "1" }) : undefined;
  if (withStackTraces) console.table(Object.fromEntries(withStackTraces.by_size.map((s) => [`${s.hosts} hosts, stack traces kept`, { "wall s": +s.wall_s.toFixed(2), "CPU s": +s.cpu_s.toFixed(2), "max RSS MB": Math.round(s.max_rss_mb) }])));
  const verify = values["plan-only"] ? (previous.verify ?? { skipped: "not run yet: --plan-only" }) : await verifySizes(sizesOf(values["verify-sizes"]), rounds);
  if (!values["plan-only"] && "by_size" in verify) {
    console.table(
      Object.fromEntries(
        verify.by_size.map((s: any) => [`${s.hosts} hosts`, { "verify s (median)": +s.seconds_median.toFixed(2), "verify's CPU s": +s.client_cpu_s_median.toFixed(2), "CPU floor s": +s.cpu_floor_s_median.toFixed(2), "x floor": +s.ratio_to_cpu_floor.toFixed(2), passed: s.all_passed }]),
      ),
    );
    console.log(`verify ${verify.by_size[verify.by_size.length - 1].hosts} hosts / 1: x${verify.ratio_largest_to_one.toFixed(2)} (target <= x${VERIFY_TARGET_RATIO}: ${verify.target_met ? "met" : "NOT met"})`);
  }
  const result = {
    measured_at: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gb: Math.round(totalmem() / 2 ** 30), node: process.version, note: "2 vCPUs shared with other engineers' sandboxes and builds" },
    stack: "prod's hostDefaults; each host prod-1's own entry with its own name, addresses (RFC 5737) and disk id",
    plan,
    ...(withStackTraces ? { plan_with_stack_traces: withStackTraces } : {}),
    verify,
  };
  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
