// Times spark-pg forks against their baselines on a fresh sandbox host: apply the sandbox stack,
// then per size in --sizes (default 1G,4G) a pgbench database of about that size in its own
// instance, forked --runs times (default 5) under 4 pgbench clients writing throughout
// (host-tools/bench/fork-bench.py: fork-to-ready, the tool's step timings, pgbench's balance
// invariant checked in every fork), and on the same data `pg_dump -Fc | pg_restore` into a new empty
// instance and `CREATE DATABASE ... TEMPLATE` (with the load stopped: the template must have no
// other session). Prints a table and writes bench/results/fork.json.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { posixQuote } from "../lib/shell-quote";
import { parseSize } from "../lib/size";
import { SshSession } from "../lib/ssh";
import { openSandboxSession } from "../sandbox";
import { BenchSandbox, median, ROOT } from "./lib/bench-sandbox";

const SANDBOX = new BenchSandbox("fork");
const STATE_DIR = SANDBOX.stateDir;
const PG_BIN = "/usr/lib/postgresql/15/bin";
/** pgbench -i -s 1 is about this many bytes on disk (100 000 accounts plus indexes). */
const BYTES_PER_SCALE = 15.3e6;
/** Ports apart from the e2e sandbox stack (25500-25519) and the tool test (25432-25499): sandboxes share the machine's network. */
const PORTS = { from: 25540, to: 25559 };

interface Run {
  size: string;
  scale: number;
  db_bytes: number;
  quotas: boolean;
  fork_ready_s: number[];
  fork_ready_s_median: number;
  fork_steps_ms_median: Record<string, number>;
  fork_runs: unknown[];
  pgbench_tail: string[];
  dump_restore_s: number;
  dump_restore_with_new_instance_s: number;
  createdb_template_s: number;
  createdb_template_file_copy_s: number;
  invariant_ok: boolean;
  invariant_source_after_load: unknown;
  invariant_restored: unknown;
}

class Host {
  private constructor(private readonly session: SshSession) {}

  static async open(): Promise<Host> {
    return new Host(await openSandboxSession(STATE_DIR));
  }

  /** Runs a bash script as root; throws on a non-zero exit. */
  async run(script: string, stdin?: string, echo = false): Promise<string> {
    const result = await this.session.exec(`bash -c ${posixQuote(`set -euo pipefail; ${script}`)}`, {
      stdin,
      onStderr: echo ? (chunk) => process.stderr.write(chunk) : undefined,
    });
    if (result.code !== 0) throw new Error(`on the host: ${script}\nexit ${result.code}\n${result.stdout}${result.stderr}`);
    return result.stdout;
  }

  /** Seconds the script took on the host (measured there, not over SSH). */
  async timed(script: string): Promise<number> {
    const out = await this.run(`s=$(date +%s.%N); ${script} >&2; e=$(date +%s.%N); echo "$s $e"`);
    const [start, end] = out.trim().split("\n").pop()!.split(" ").map(Number);
    return end - start;
  }

  close(): void {
    this.session.close();
  }
}

/** `command` run as NAME's role: spark-pg puts the connection in its environment, never on a command line. */
const asRole = (name: string, command: string) => `spark-pg connect ${name} --run -- ${command}`;
const superuser = (name: string, sql: string) =>
  `runuser -u postgres -- ${PG_BIN}/psql -X -v ON_ERROR_STOP=1 -h /run/postgresql -p $(spark-pg status ${name} --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["port"])') -d postgres -c ${JSON.stringify(sql)}`;

async function benchSize(host: Host, size: string, runs: number, quotas: boolean): Promise<Run> {
  const scale = Math.max(1, Math.round(parseSize(size) / BYTES_PER_SCALE));
  const name = `bench-${size.toLowerCase()}`;
  console.log(`${size}: spark-pg new ${name}, pgbench -i -s ${scale}`);
  await host.run(`spark-pg new ${name} && ${asRole(name, `pgbench -i -q -s ${scale} -I dtgvp`)}`);
  const dbBytes = Number(
    (await host.run(asRole(name, `psql -X -tAc "select pg_database_size(current_database())"`))).trim(),
  );
  console.log(`${size}: database ${(dbBytes / 1e9).toFixed(2)} GB; ${runs} forks under pgbench -c 4`);
  const bench = JSON.parse(
    await host.run(`python3 /root/fork-bench.py ${name} --runs ${runs} --clients 4 --warmup 20 --pause 5 --check-invariant`, undefined, true),
  ) as {
    runs: { ready_s: number; invariant: { ok: boolean } }[];
    median_ready_s: number;
    median_steps_ms: Record<string, number>;
    pgbench_tail: string[];
    invariant_ok: boolean;
  };
  const invariantSql =
    "select (select sum(abalance) from pgbench_accounts) = (select sum(bbalance) from pgbench_branches) and (select sum(bbalance) from pgbench_branches) = (select sum(tbalance) from pgbench_tellers) and (select sum(tbalance) from pgbench_tellers) = (select coalesce(sum(delta), 0) from pgbench_history)";
  const sourceInvariant = (await host.run(asRole(name, `psql -X -tAc "${invariantSql}"`))).trim() === "t";

  // Baselines, on the same data, with the load stopped (fork-bench.py has ended it).
  const restored = `${name}-r`;
  const newSeconds = await host.timed(`spark-pg new ${restored}`);
  const dumpRestore = await host.timed(
    `${asRole(name, "pg_dump -Fc")} | ${asRole(restored, "pg_restore --no-owner --no-privileges -d app")}`,
  );
  const restoredInvariant = (await host.run(asRole(restored, `psql -X -tAc "${invariantSql}"`))).trim() === "t";
  await host.run(`spark-pg destroy ${restored}`);
  console.log(`${size}: pg_dump | pg_restore ${dumpRestore.toFixed(2)} s (+ new instance ${newSeconds.toFixed(2)} s)`);
  // The template must have no other session: the load is stopped here.
  const template = await host.timed(superuser(name, "CREATE DATABASE copy_wal TEMPLATE app"));
  const templateFileCopy = await host.timed(superuser(name, "CREATE DATABASE copy_fc TEMPLATE app STRATEGY FILE_COPY"));
  await host.run(`${superuser(name, "DROP DATABASE copy_wal")} && ${superuser(name, "DROP DATABASE copy_fc")}`);
  console.log(`${size}: CREATE DATABASE TEMPLATE ${template.toFixed(2)} s (WAL_LOG, the default), ${templateFileCopy.toFixed(2)} s (FILE_COPY)`);
  await host.run(`spark-pg destroy ${name}`);

  const forkReady = bench.runs.map((r) => r.ready_s);
  return {
    size,
    scale,
    db_bytes: dbBytes,
    quotas,
    fork_ready_s: forkReady,
    fork_ready_s_median: median(forkReady),
    fork_steps_ms_median: bench.median_steps_ms,
    fork_runs: bench.runs,
    pgbench_tail: bench.pgbench_tail,
    dump_restore_s: round(dumpRestore),
    dump_restore_with_new_instance_s: round(dumpRestore + newSeconds),
    createdb_template_s: round(template),
    createdb_template_file_copy_s: round(templateFileCopy),
    invariant_ok: bench.invariant_ok && bench.runs.every((r) => r.invariant.ok) && restoredInvariant,
    invariant_source_after_load: sourceInvariant,
    invariant_restored: restoredInvariant,
  };
}

const round = (seconds: number) => Math.round(seconds * 1000) / 1000;

async function main() {
  const { values } = parseArgs({
    options: {
      sizes: { type: "string", default: "1G,4G" },
      runs: { type: "string", default: "5" },
      quotas: { type: "string", default: "on" },
      "disk-size": { type: "string", default: "24G" },
    },
  });
  const sizes = values.sizes.split(",").map((s) => s.trim()).filter(Boolean);
  const runs = Math.max(5, Number(values.runs));
  if (!["on", "off"].includes(values.quotas)) throw new Error("--quotas: on (as the stack declares) or off");
  const quotas = values.quotas === "on";
  mkdirSync(STATE_DIR, { recursive: true });
  // spark-pg only, on ports of its own
  SANDBOX.writeStack(["sparkPg"], ([host]) => (host.sparkPg.ports = PORTS));
  const results: Run[] = [];
  await SANDBOX.up(values["disk-size"]);
  try {
    console.log(`apply: ${(await SANDBOX.apply()).seconds.toFixed(1)} s`);
    const host = await Host.open();
    try {
      await host.run("cat > /root/fork-bench.py && chmod 755 /root/fork-bench.py", readFileSync(path.join(ROOT, "host-tools/bench/fork-bench.py"), "utf8"));
      if (!quotas) await host.run("btrfs quota disable /srv/sparks");
      for (const size of sizes) results.push(await benchSize(host, size, runs, quotas));
    } finally {
      host.close();
    }
  } finally {
    await SANDBOX.down();
  }
  console.table(
    Object.fromEntries(
      results.map((r) => [
        r.size,
        {
          "db GB": round(r.db_bytes / 1e9),
          "fork ready median s": r.fork_ready_s_median,
          "fork ready s": r.fork_ready_s.join(" "),
          "dump|restore s": r.dump_restore_s,
          "createdb template s": r.createdb_template_s,
          invariant: r.invariant_ok,
        },
      ]),
    ),
  );
  for (const r of results) console.log(`${r.size} median fork steps (ms): ${JSON.stringify(r.fork_steps_ms_median)}`);
  mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(path.join(ROOT, "bench/results/fork.json"), `${JSON.stringify({ runs: results }, null, 2)}\n`);
  if (!results.every((r) => r.invariant_ok)) {
    console.error("the pgbench balance invariant failed");
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
