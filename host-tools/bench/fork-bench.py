#!/usr/bin/python3 -IS
"""Fork-to-ready benchmark for spark-pg, run on a host (root).

  fork-bench.py SOURCE [--runs 7] [--clients 4] [--rate TPS] [--warmup 20] [--pause 5] [--tool spark-pg] [--check-invariant]

Runs `pgbench -c CLIENTS` against SOURCE (pgbench tables must exist in its database), waits WARMUP
seconds, then RUNS times: fork SOURCE into a scratch instance, time from the command's start until
the fork answers `SELECT 1` over TCP with its own password, record the tool's per-step timings,
with --check-invariant, check pgbench's balance invariant in the fork (sum(abalance) of accounts =
branches = tellers = sum(delta) of history), destroy the fork. Prints one JSON document: runs, medians, and pgbench's result (failed
transactions must be 0: the source is never paused or stopped).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

PG_BIN = "/usr/lib/postgresql/{v}/bin"


def role_env(tool: str, name: str) -> dict:
    """The environment that connects libpq programs to NAME as its role, password included: the
    password travels in the environment, never on a command line (/proc/*/cmdline is world-readable)."""
    out = subprocess.run([tool, "connect", name, "--run", "--", "env", "-0"], check=True, capture_output=True, text=True).stdout
    pairs = (item.split("=", 1) for item in out.split("\0") if "=" in item)
    return {**os.environ, **{key: value for key, value in pairs if key.startswith("PG")}}


INVARIANT_SQL = ("select (select coalesce(sum(abalance), 0) from pgbench_accounts), (select coalesce(sum(bbalance), 0) from pgbench_branches), "
                 "(select coalesce(sum(tbalance), 0) from pgbench_tellers), (select coalesce(sum(delta), 0) from pgbench_history), "
                 "(select count(*) from pgbench_history)")


def invariant(bin_dir: str, env: dict) -> dict:
    """pgbench's TPC-B balance invariant: the four sums are equal (in a consistent snapshot)."""
    q = subprocess.run([f"{bin_dir}/psql", "-X", "-tA", "-F", " ", "-v", "ON_ERROR_STOP=1", "-c", INVARIANT_SQL],
                       capture_output=True, text=True, env=env)
    if q.returncode != 0:
        return {"ok": False, "error": q.stderr.strip()}
    accounts, branches, tellers, history, transactions = (int(v) for v in q.stdout.split())
    return {"ok": accounts == branches == tellers == history, "accounts": accounts, "branches": branches,
            "tellers": tellers, "history": history, "history_rows": transactions}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("source")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--rate", type=int, help="pgbench -R: limit the load to this many transactions/s")
    ap.add_argument("--warmup", type=float, default=20)
    ap.add_argument("--pause", type=float, default=5, help="seconds between forks")
    ap.add_argument("--tool", default="spark-pg")
    ap.add_argument("--version", type=int, default=15)
    ap.add_argument("--check-invariant", action="store_true", help="check the pgbench balance invariant in every fork")
    args = ap.parse_args()
    bin_dir = PG_BIN.format(v=args.version)

    status = json.loads(subprocess.run([args.tool, "status", args.source, "--json"], check=True, capture_output=True, text=True).stdout)
    source_env = role_env(args.tool, args.source)
    duration = int(args.warmup + args.runs * (args.pause + 10) + 30)
    pgbench = subprocess.Popen([f"{bin_dir}/pgbench", "-c", str(args.clients), "-j", str(args.clients), "-T", str(duration),
                                "-n", "-P", "5", *(["-R", str(args.rate)] if args.rate else [])], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=source_env)
    time.sleep(args.warmup)
    runs = []
    for i in range(args.runs):
        name = f"bench-{os.getpid()}-{i}"
        t0 = time.monotonic()
        fork = subprocess.run([args.tool, "fork", args.source, name, "--json"], capture_output=True, text=True)
        t_cmd = time.monotonic() - t0
        if fork.returncode != 0:
            print(fork.stderr, file=sys.stderr)
            pgbench.kill()
            return 1
        info = json.loads(fork.stdout)
        fork_env = role_env(args.tool, name)
        t1 = time.monotonic()
        q = subprocess.run([f"{bin_dir}/psql", "-X", "-tAc", "select 1"], capture_output=True, text=True, env=fork_env)
        t_query = time.monotonic() - t1
        ready = t_cmd + t_query
        run = {"ready_s": round(ready, 3), "command_s": round(t_cmd, 3), "first_query_s": round(t_query, 3),
               "query_ok": q.stdout.strip() == "1", "steps_ms": info["timings_ms"]}
        if args.check_invariant:
            run["invariant"] = invariant(bin_dir, fork_env)
        runs.append(run)
        print(f"run {i}: ready {ready:.3f} s (command {t_cmd:.3f} s + first query {t_query:.3f} s) {info['timings_ms']}"
              + (f" invariant {run['invariant']}" if args.check_invariant else ""), file=sys.stderr)
        subprocess.run([args.tool, "destroy", name], check=True, capture_output=True)
        time.sleep(args.pause)
    pgbench.terminate()
    out, _ = pgbench.communicate(timeout=60)
    steps = sorted({k for r in runs for k in r["steps_ms"]})
    print(json.dumps({
        "source": args.source, "source_size": status.get("size"), "clients": args.clients, "runs": runs,
        "median_ready_s": statistics.median(r["ready_s"] for r in runs),
        "median_steps_ms": {k: statistics.median(r["steps_ms"].get(k, 0) for r in runs) for k in steps},
        "pgbench_tail": out.strip().splitlines()[-12:],
        **({"invariant_ok": all(r["invariant"]["ok"] for r in runs)} if args.check_invariant else {}),
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
