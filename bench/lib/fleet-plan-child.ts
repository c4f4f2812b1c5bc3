// One plan of bench/fleet.ts, in a process of its own: the plan apply/cli.ts makes of a first
// deploy (`npm run plan -- --full`), phase by phase, with its CPU time and peak memory.
//   tsx bench/lib/fleet-plan-child.ts STACK_FILE HOSTS   -> one JSON line on stdout
import type { PlanRun } from "../fleet";

/** The child: the plan apply/cli.ts makes, phase by phase, and what it cost; one JSON line on stdout. */
async function main(file: string, hosts: number): Promise<void> {
  let heapPeak = 0;
  const sample = () => (heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed));
  const sampler = setInterval(sample, 5);
  const clock = () => Number(process.hrtime.bigint()) / 1e9;
  // Imported once the sampler runs: their loading is part of what a plan costs.
  const { readStackConfig } = await import("../../apply/stack-file");
  const { evaluateStack } = await import("../../apply/evaluate");
  const { planUpdate } = await import("../../apply/engine/steps");
  const { renderPlan } = await import("../../apply/plan-text");
  const { secretStrings } = await import("../../apply/engine/values");
  const t0 = clock();
  const config = readStackConfig("fleet", { configFile: file });
  config.values["sparks:sshPrivateKey"] = "[secret]";
  config.secretKeys.push("sparks:sshPrivateKey");
  const t1 = clock();
  const evaluated = await evaluateStack("fleet", config);
  const t2 = clock();
  const steps = planUpdate({ version: 1, stack: "fleet", resources: [], pendingOperations: [] }, evaluated.goals);
  const t3 = clock();
  const secrets = [...config.secretValues, ...evaluated.goals.flatMap((goal) => secretStrings(goal.inputs))];
  const text = renderPlan(steps, { full: true, secrets });
  const t4 = clock();
  sample();
  clearInterval(sampler);
  const run: Omit<PlanRun, "wall_s"> = {
    hosts,
    resources: evaluated.goals.length,
    plan_lines: text.split("\n").length - 1,
    read_config_s: t1 - t0,
    evaluate_s: t2 - t1,
    steps_s: t3 - t2,
    render_s: t4 - t3,
    max_rss_mb: process.resourceUsage().maxRSS / 1024,
    cpu_s: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    heap_used_peak_mb: heapPeak / 2 ** 20,
  };
  process.stdout.write(`${JSON.stringify(run)}\n`, () => process.exit(0));
}

const [file, hosts] = process.argv.slice(2);
main(file, Number(hosts)).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
