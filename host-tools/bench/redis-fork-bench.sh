#!/usr/bin/env bash
# Runs on the sandbox host, as root: fills instance SOURCE with KEYS keys, puts it under
# redis-benchmark write load, forks it RUNS times (fork-to-ready each: command start until the fork
# answers DBSIZE >= KEYS with its own credentials), then copies the same data by the baseline
# (redis-cli --rdb from the loaded source + a plain redis-server loading that RDB). One JSON object
# per line on stdout; progress on stderr. Not installed by any component.
# Usage: redis-fork-bench.sh SOURCE KEYS RUNS BASELINE_PORT
set -euo pipefail
source=$1 keys=$2 runs=$3 baseline_port=$4
root=$(python3 -c 'import json; print(json.load(open("/etc/sparks/spark-redis.json"))["root"])')
port=$(spark-redis status "$source" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["port"])')
password=$(cat "/etc/sparks/spark-redis/$source.password")
tool_password=$(cat /etc/sparks/spark-redis/_tool.password)
# Instances speak TLS only (the host certificate, sparks_host/tls.py).
tls=(--tls --cacert /etc/sparks/tls/ca.crt)
cli() { REDISCLI_AUTH=$password redis-cli --no-auth-warning "${tls[@]}" -h 127.0.0.1 -p "$port" --user "$source" "$@"; }
# INFO, BGREWRITEAOF and the --rdb copy are admin commands: the host's own user, not the tenant's.
admin_cli() { REDISCLI_AUTH=$tool_password redis-cli --no-auth-warning "${tls[@]}" -h 127.0.0.1 -p "$port" --user sparks-tool "$@"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
info() { admin_cli INFO "$1" | tr -d '\r' | sed -n "s/^$2://p"; }

echo "filling $source with $keys keys (the key names redis-benchmark -r $keys writes)" >&2
python3 - "$keys" <<'PY' | REDISCLI_AUTH=$password redis-cli --no-auth-warning "${tls[@]}" -h 127.0.0.1 -p "$port" --user "$source" --pipe >&2
import sys
n = int(sys.argv[1]); value = b"v" * 100; out = sys.stdout.buffer
for i in range(n):
    key = b"key:%012d" % i
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$100\r\n%s\r\n" % (len(key), key, value))
PY
admin_cli BGREWRITEAOF >&2
while [ "$(info persistence aof_rewrite_in_progress)" != 0 ] || [ "$(info persistence aof_rewrite_scheduled)" != 0 ]; do sleep 0.2; done
echo "{\"keys\": $(cli DBSIZE), \"used_memory\": $(info memory used_memory), \"aof_base_bytes\": $(du -cb "$root/$source/data/appendonlydir/"*.base.* | tail -1 | cut -f1)}"

echo "load: redis-benchmark -t set -r $keys -d 100 -c 4, throughout" >&2
# redis-benchmark takes a password only as -a: on its command line, for as long as the load runs.
redis-benchmark "${tls[@]}" -h 127.0.0.1 -p "$port" --user "$source" -a "$password" -t set -r "$keys" -d 100 -c 4 -n 1000000000 -q >/dev/null 2>&1 &
load=$!
trap 'kill $load 2>/dev/null || true' EXIT
sleep 5
for i in $(seq 1 "$runs"); do
  name=bench-fork-$i
  ops=$(info stats instantaneous_ops_per_sec)
  incr=$(du -cb "$root/$source/data/appendonlydir/"*.incr.* | tail -1 | cut -f1)
  start=$(now)
  spark-redis fork "$source" "$name" --json >/tmp/fork.json
  fork_port=$(python3 -c 'import json; print(json.load(open("/tmp/fork.json"))["port"])')
  fork_password=$(cat "/etc/sparks/spark-redis/$name.password")
  returned=$(now)
  until n=$(REDISCLI_AUTH=$fork_password redis-cli --no-auth-warning "${tls[@]}" -h 127.0.0.1 -p "$fork_port" --user "$name" DBSIZE 2>/dev/null) && [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge "$keys" ]; do sleep 0.005; done
  ready=$(now)
  timings=$(python3 -c 'import json; print(json.dumps(json.load(open("/tmp/fork.json"))["timings_ms"]))')
  echo "{\"run\": $i, \"ready_s\": $(elapsed "$start" "$ready"), \"command_s\": $(elapsed "$start" "$returned"), \"fork_keys\": $n, \"source_ops_per_sec\": $ops, \"source_incr_aof_bytes\": $incr, \"timings_ms\": $timings}"
  echo "fork $i ready in $(elapsed "$start" "$ready") s" >&2
  spark-redis destroy "$name" >&2
  sleep 3
done

echo "baseline: redis-cli --rdb from $source under the same load, then redis-server loading it" >&2
scratch=$root/.bench-baseline
rm -rf "$scratch" && mkdir -p "$scratch" && chown redis:redis "$scratch"
start=$(now)
admin_cli --rdb "$scratch/dump.rdb" >&2
dumped=$(now)
chown redis:redis "$scratch/dump.rdb"
runuser -u redis -- redis-server --port "$baseline_port" --bind 127.0.0.1 --dir "$scratch" --dbfilename dump.rdb \
  --appendonly no --save '' --daemonize yes --pidfile "$scratch/redis.pid" --logfile "$scratch/redis.log" >&2
until n=$(redis-cli -h 127.0.0.1 -p "$baseline_port" DBSIZE 2>/dev/null) && [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge "$keys" ]; do sleep 0.005; done
ready=$(now)
kill "$(cat "$scratch/redis.pid")"
while [ -e "$scratch/redis.pid" ]; do sleep 0.05; done
echo "{\"baseline\": \"rdb dump + restore\", \"ready_s\": $(elapsed "$start" "$ready"), \"dump_s\": $(elapsed "$start" "$dumped"), \"load_s\": $(elapsed "$dumped" "$ready"), \"rdb_bytes\": $(stat -c %s "$scratch/dump.rdb"), \"keys\": $n}"
rm -rf "$scratch"
