#!/usr/bin/python3 -IS
"""A/B trials of spark-pg fork-to-ready under pgbench -c 4 -j 4, run on a host (root); not installed.

  fork-ab.py SOURCE --arms base,ckpt30,... [--rounds 4] [--settle 40] [--window 20]

Arms run interleaved (ABC, CBA, ABC...) so every arm sees the same machine load. Per trial: set the
arm's source settings (ALTER SYSTEM + reload) and btrfs quota state, start pgbench on the source,
wait SETTLE s (the source's tps is counted over the last WINDOW s, its dirty shared buffers read
from pg_buffercache just before), fork, time until the fork answers `select 1`, check pgbench's
balance invariant in the fork, stop pgbench, destroy the fork. Needs pgbench tables in SOURCE's
database `app` and `create extension pg_buffercache` in its database `postgres`. Arms:
  base      PG defaults (checkpoint_timeout 5min, bgwriter defaults), quotas on
  ckpt30/ckpt60  checkpoint_timeout 30s / 60s (spread checkpoints keep fewer buffers dirty?)
  bgw       bgwriter_delay 10ms, lru_maxpages 1000, lru_multiplier 10
  noquota   base with btrfs quotas disabled (re-enabled with a full rescan for the other arms)
  sb32      forks SOURCE-sb32 instead: a fork of SOURCE restarted with shared_buffers = 32MB
  ckpt2     an extra CHECKPOINT issued just before `spark-pg fork` (timed as part of the fork)
  old1ckpt  runs the tool at /root/old/spark-pg (a copy of the previous version) instead
  nocompress  forks SOURCE-nocomp instead: a fork of SOURCE (made before the trials if missing) whose
            data directory's files and directories all got `chattr +m` (btrfs NOCOMPRESS: new writes
            are not compressed despite the mount's compress=zstd; new files inherit it from their
            directory; extents written before stay compressed until rewritten)
  nodatacow   forks SOURCE-nocow instead: a fork of SOURCE (made before the trials if missing),
            stopped, its data directory copied file by file (no reflink) into a fresh `chattr +C`
            directory so every file is NOCOW from birth (no compression, no data checksums, in-place
            overwrites while no snapshot shares the extent), then started again
Prints one line per trial on stderr, a JSON summary per arm on stdout."""
import argparse, json, os, statistics, subprocess, sys, time
BIN = "/usr/lib/postgresql/15/bin"


def role_env(name):
    """Connects libpq programs to NAME as its role; the password in the environment, never in argv."""
    out = subprocess.run(["spark-pg", "connect", name, "--run", "--", "env", "-0"], check=True, capture_output=True, text=True).stdout
    return {**os.environ, **{k: v for k, v in (i.split("=", 1) for i in out.split("\0") if "=" in i) if k.startswith("PG")}}
ARMS = {
    # source settings (ALTER SYSTEM, reloaded) and btrfs quota state
    "base": ({"checkpoint_timeout": "5min", "bgwriter_delay": "200ms", "bgwriter_lru_maxpages": "100", "bgwriter_lru_multiplier": "2"}, True),
    "ckpt30": ({"checkpoint_timeout": "30s", "bgwriter_delay": "200ms", "bgwriter_lru_maxpages": "100", "bgwriter_lru_multiplier": "2"}, True),
    "ckpt60": ({"checkpoint_timeout": "60s", "bgwriter_delay": "200ms", "bgwriter_lru_maxpages": "100", "bgwriter_lru_multiplier": "2"}, True),
    "bgw": ({"checkpoint_timeout": "5min", "bgwriter_delay": "10ms", "bgwriter_lru_maxpages": "1000", "bgwriter_lru_multiplier": "10"}, True),
    "sb32": ({"checkpoint_timeout": "5min", "bgwriter_delay": "200ms", "bgwriter_lru_maxpages": "100", "bgwriter_lru_multiplier": "2"}, True),
    "ckpt2": ({"checkpoint_timeout": "5min", "bgwriter_delay": "200ms", "bgwriter_lru_maxpages": "100", "bgwriter_lru_multiplier": "2"}, True),
    "old1ckpt": ({"checkpoint_timeout": "5min", "bgwriter_delay": "200ms", "bgwriter_lru_maxpages": "100", "bgwriter_lru_multiplier": "2"}, True),
    "new2ckpt": ({"checkpoint_timeout": "5min", "bgwriter_delay": "200ms", "bgwriter_lru_maxpages": "100", "bgwriter_lru_multiplier": "2"}, True),
    "nocompress": ({"checkpoint_timeout": "5min", "bgwriter_delay": "200ms", "bgwriter_lru_maxpages": "100", "bgwriter_lru_multiplier": "2"}, True),
    "nodatacow": ({"checkpoint_timeout": "5min", "bgwriter_delay": "200ms", "bgwriter_lru_maxpages": "100", "bgwriter_lru_multiplier": "2"}, True),
    "noquota": ({"checkpoint_timeout": "5min", "bgwriter_delay": "200ms", "bgwriter_lru_maxpages": "100", "bgwriter_lru_multiplier": "2"}, False),
}
INV = ("select (select sum(abalance) from pgbench_accounts) = (select sum(bbalance) from pgbench_branches) and "
       "(select sum(bbalance) from pgbench_branches) = (select sum(tbalance) from pgbench_tellers) and "
       "(select sum(tbalance) from pgbench_tellers) = (select coalesce(sum(delta), 0) from pgbench_history)")

def sh(*a, **k):
    return subprocess.run(a, check=True, capture_output=True, text=True, **k).stdout.strip()

def su(port, sql):
    return sh("runuser", "-u", "postgres", "--", f"{BIN}/psql", "-X", "-tAq", "-h", "/run/postgresql", "-p", str(port), "-d", "postgres", "-c", sql)

def quotas_on():
    return "quotas not enabled" not in subprocess.run(["btrfs", "qgroup", "show", "/srv/sparks"], capture_output=True, text=True).stderr

def set_quota(on):
    if on == quotas_on(): return
    if on:
        sh("btrfs", "quota", "enable", "/srv/sparks"); sh("btrfs", "quota", "rescan", "-w", "/srv/sparks")
    else:
        sh("btrfs", "quota", "disable", "/srv/sparks")

# Arms that fork a source of their own instead of SOURCE: its name suffix.
DERIVED = {"sb32": "sb32", "nocompress": "nocomp", "nodatacow": "nocow"}

def exists(name):
    return subprocess.run(["spark-pg", "status", name, "--json"], capture_output=True).returncode == 0

def prepare(source, arm):
    """Makes SOURCE-nocomp / SOURCE-nocow when missing (sb32's source is made by hand, see the docstring)."""
    name = f"{source}-{DERIVED[arm]}"
    if arm == "sb32" or exists(name): return
    sh("spark-pg", "fork", source, name)
    data = os.path.join(json.loads(sh("spark-pg", "status", name, "--json"))["path"], "data")
    if arm == "nocompress":
        sh("chattr", "-R", "+m", data)
        if "m" not in sh("lsattr", "-d", data).split()[0]: raise SystemExit(f"chattr +m did not stick on {data}")
    else:
        sh("spark-pg", "stop", name)
        old = data + ".cow"
        os.rename(data, old)
        os.mkdir(data, 0o700); sh("chattr", "+C", data); sh("chown", "postgres:postgres", data); os.chmod(data, 0o700)
        sh("cp", "-a", "--reflink=never", old + "/.", data + "/")
        cow = [l for l in sh("lsattr", "-R", data).splitlines() if l and not l.endswith(":") and "C" not in l.split()[0]]
        if cow: raise SystemExit(f"not NOCOW after the copy: {cow[:3]}")
        sh("rm", "-rf", old)
        sh("spark-pg", "start", name)
    print(f"prepared {name} for arm {arm}", file=sys.stderr, flush=True)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("source"); ap.add_argument("--arms", default="base,ckpt30,bgw"); ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--settle", type=float, default=40); ap.add_argument("--window", type=float, default=20)
    a = ap.parse_args()
    arms = a.arms.split(",")
    res = {arm: [] for arm in arms}
    pgb = None
    for arm in arms:
        if arm in DERIVED: prepare(a.source, arm)
    try:
        for r in range(a.rounds):
            for arm in (arms if r % 2 == 0 else list(reversed(arms))):
                settings, q = ARMS[arm]
                src = f"{a.source}-{DERIVED[arm]}" if arm in DERIVED else a.source
                port = json.loads(sh("spark-pg", "status", src, "--json"))["port"]
                set_quota(q)
                pgb = subprocess.Popen([f"{BIN}/pgbench", "-c", "4", "-j", "4", "-T", "36000", "-n"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=role_env(src))
                for k, v in settings.items(): su(port, f"ALTER SYSTEM SET {k} = '{v}'")
                su(port, "SELECT pg_reload_conf()")
                time.sleep(a.settle - a.window)
                c0 = int(su(port, "select xact_commit from pg_stat_database where datname='app'")); t0 = time.monotonic()
                time.sleep(a.window)
                c1 = int(su(port, "select xact_commit from pg_stat_database where datname='app'")); tps = (c1 - c0) / (time.monotonic() - t0)
                dirty = int(su(port, "select count(*) from pg_buffercache where isdirty") or 0) if HAVE_BC else None
                load = open("/proc/loadavg").read().split()[0]
                name = f"ab-{os.getpid()}-{r}-{arm}"
                s = time.monotonic()
                pre_ms = None
                if arm == "ckpt2":  # a first CHECKPOINT writes the bulk; the tool's own then has little left and its redo point is recent
                    su(port, "CHECKPOINT"); pre_ms = round((time.monotonic() - s) * 1000)
                f = subprocess.run(["/root/old/spark-pg" if arm == "old1ckpt" else "spark-pg", "fork", src, name, "--json"], capture_output=True, text=True)
                cmd = time.monotonic() - s
                if f.returncode: print(f.stderr, file=sys.stderr); raise SystemExit(1)
                fenv = role_env(name)
                s = time.monotonic(); ok1 = subprocess.run([f"{BIN}/psql", "-X", "-tAc", "select 1"], capture_output=True, text=True, env=fenv).stdout.strip() == "1"; fq = time.monotonic() - s
                inv = subprocess.run([f"{BIN}/psql", "-X", "-tAc", INV], capture_output=True, text=True, env=fenv).stdout.strip() == "t"
                pgb.terminate(); pgb.wait(); pgb = None
                sh("spark-pg", "destroy", name)
                row = {"ready_s": round(cmd + fq, 3), "steps": json.loads(f.stdout)["timings_ms"], "tps": round(tps), "pre_checkpoint_ms": pre_ms, "dirty_buffers": dirty, "load1": load, "source": src, "invariant": inv and ok1}
                res[arm].append(row); print(arm, json.dumps(row), file=sys.stderr, flush=True)
    finally:
        if pgb: pgb.terminate()
    out = {arm: {"ready_median_s": statistics.median(x["ready_s"] for x in rows), "ready_s": [x["ready_s"] for x in rows],
                 "tps_median": statistics.median(x["tps"] for x in rows), "checkpoint_ms_median": statistics.median(x["steps"].get("quiesce source", 0) for x in rows),
                 "invariant_ok": all(x["invariant"] for x in rows), "runs": rows} for arm, rows in res.items()}
    print(json.dumps(out, indent=1))

HAVE_BC = True
if __name__ == "__main__":
    main()
