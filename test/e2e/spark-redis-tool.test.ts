import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { posixQuote } from "../../lib/shell-quote";
import { e2eBlockerFor, ROOT } from "./support";
import { footprint, sleep, toolSandboxHost } from "./tool-support";

const blocker = e2eBlockerFor("the spark-redis e2e tests");

const INSTALL_DIR = "/usr/local/lib/sparks/redis";
const REDIS_ROOT = "/srv/sparks/redis";
const MIN_FREE = 512 * 1024 * 1024;
const MAXMEMORY = 256 * 1024 * 1024;
/** The sandbox shares the machine's network: loopback only, and only this port range. */
const CONFIG = { root: REDIS_ROOT, listen: "127.0.0.1", ports: [26320, 26339], min_free_bytes: MIN_FREE, appendfsync: "everysec", save: "300 100", maxmemory: MAXMEMORY };

const PACKAGES = `# Debian's default instance would listen on the machine's 6379: it never starts here.
mkdir -p /etc/systemd/system/redis-server.service.d
printf '[Unit]\\nConditionPathExists=/etc/redis/sparks-allow-default-instance\\n' > /etc/systemd/system/redis-server.service.d/sparks.conf
apt-get update -qq
apt-get install -y -qq --no-install-recommends redis-server redis-tools python3 btrfs-progs iproute2 >/dev/null
systemctl disable --quiet redis-server`;

/**
 * Writes k:0, k:1, ... one at a time, each after the previous was acknowledged, until stopped.
 * SIGUSR1 records the highest acknowledged index at that moment in /tmp/acked (the test sends it,
 * waits for the file, and only then starts the fork); SIGTERM writes the final count and exits.
 */
const WRITER = String.raw`
import os, signal, socket, ssl, sys
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = ssl.create_default_context(cafile="/etc/sparks/tls/ca.crt").wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
f = s.makefile("rb")
def cmd(*args):
    s.sendall(b"".join([b"*%d\r\n" % len(args)] + [b"$%d\r\n%s\r\n" % (len(a), a) for a in (x.encode() for x in args)]))
    line = f.readline()
    if not line.startswith((b"+", b":")): raise SystemExit("unexpected reply %r" % line)
cmd("AUTH", user, password)
acked = -1
def mark(*_):
    with open("/tmp/acked.tmp", "w") as out: out.write(str(acked))
    os.rename("/tmp/acked.tmp", "/tmp/acked")
def stop(*_):
    with open("/tmp/final", "w") as out: out.write(str(acked))
    raise SystemExit(0)
signal.signal(signal.SIGUSR1, mark); signal.signal(signal.SIGTERM, stop)
i = 0
while True:
    cmd("SET", "k:%d" % i, str(i)); acked = i; i += 1
`;

/** Lua on the fork: the first k:i (0 <= i <= ACKED) that is missing or wrong, or -1 when all are there. */
const FIRST_MISSING = "for i = 0, tonumber(ARGV[1]) do if redis.call('GET', 'k:' .. i) ~= tostring(i) then return i end end return -1";

const FOOTPRINT = footprint("spark-redis", REDIS_ROOT);
const CA = "/etc/sparks/tls/ca.crt";
/** redis-cli over TLS, verifying the instance's certificate with the host CA. */
const REDIS_CLI = `redis-cli --no-auth-warning --tls --cacert ${CA}`;

const host = toolSandboxHost({ tool: "spark-redis", root: REDIS_ROOT, stateDir: path.join(ROOT, ".sandbox-redistool"), diskSize: "4G", installDir: INSTALL_DIR, packages: PACKAGES, config: CONFIG });
const { run, sh, tool, status, uri, withConfig } = host;
/** One command through `spark-redis connect`: redis-cli over TCP as the instance's own user. */
const cli = async (name: string, command: string) => (await sh(`spark-redis connect ${name} -- ${command}`)).trim();
const password = async (name: string) => (await sh(`cat /etc/sparks/spark-redis/${name}.password`)).trim();
const TOOL_PASSWORD = "/etc/sparks/spark-redis/_tool.password";
/** One command as the tool's own ACL user (CONFIG is @admin: the instance's user may not). */
const asTool = async (name: string, command: string) =>
  (await sh(`REDISCLI_AUTH=$(cat ${TOOL_PASSWORD}) ${REDIS_CLI} -h 127.0.0.1 -p ${(await status(name)).port} --user sparks-tool ${command}`)).trim();

/** redis-cli with explicit credentials (or none), to prove what the server refuses. */
function login(port: number, command: string, user?: string, secret?: string) {
  const auth = user === undefined ? "" : `--user ${posixQuote(user)} --pass ${posixQuote(secret ?? "")} `;
  return run(`${REDIS_CLI} -h 127.0.0.1 -p ${port} ${auth}${command}`);
}

/** The source's observable state: its server process, record and a digest of its keys. */
async function sourceState(name: string) {
  const s = await status(name);
  return { pid: s.pid, record: await sh(`cat ${REDIS_ROOT}/${name}/instance.json`), keys: await cli(name, "DBSIZE"), fsync: await asTool(name, "CONFIG GET appendfsync") };
}

describe.skipIf(blocker !== undefined)("spark-redis on a sandbox host", () => {
  let mainPort: number;

  host.upForTests();

  it("Debian's default instance is not running; setup installs the unit templates once", async () => {
    expect(await sh("systemctl is-active redis-server || true")).toBe("inactive\n");
    expect(await sh("systemctl is-enabled redis-server || true")).toBe("disabled\n");
    expect(await sh("spark-redis setup")).toBe("sparks-result: changed\n");
    expect(await sh("spark-redis setup")).toBe("sparks-result: unchanged\n");
    const unit = await sh("cat /etc/systemd/system/spark-redis@.service");
    expect(unit).toContain(`ExecStart=/usr/bin/redis-server ${REDIS_ROOT}/%i/redis.conf`);
    expect(unit).toMatch(/^Type=notify$/m);
    expect(unit).toMatch(/^User=redis$/m);
    expect(await sh("cat /etc/systemd/system/spark-redis-expire@.service")).toContain(`ExecStart=${INSTALL_DIR}/spark-redis destroy %i --expired`);
  });

  it("new: answers only its own user with its password, on the declared address, with AOF and maxmemory as configured", async () => {
    const created = JSON.parse(await sh("spark-redis new main --json"));
    expect(created).toMatchObject({ name: "main", state: "active", role: "main", database: 0, source: null, address: "127.0.0.1" });
    mainPort = created.port;
    expect(mainPort).toBeGreaterThanOrEqual(26320);
    expect(mainPort).toBeLessThanOrEqual(26339);
    const secret = await password("main");
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(await uri("main")).toBe(`rediss://main:${secret}@127.0.0.1:${mainPort}/0?ssl_ca_certs=${CA}`);

    expect(await cli("main", "ACL WHOAMI")).toBe("main");
    expect((await login(mainPort, "PING", "main", secret)).stdout.trim()).toBe("PONG");
    const anonymous = await login(mainPort, "PING");
    expect(anonymous.stdout + anonymous.stderr).toContain("NOAUTH Authentication required");
    const wrong = await login(mainPort, "PING", "main", "not-the-password");
    expect(wrong.stdout + wrong.stderr).toContain("WRONGPASS");
    const asDefault = await login(mainPort, "PING", "default", secret);
    expect(asDefault.stdout + asDefault.stderr).toContain("WRONGPASS");

    const listeners = (await sh(`ss -Hltn 'sport = :${mainPort}'`)).trim().split("\n");
    expect(listeners.length).toBe(1);
    expect(listeners[0].split(/\s+/)[3]).toBe(`127.0.0.1:${mainPort}`);
    expect(await asTool("main", "CONFIG GET appendonly")).toBe("appendonly\nyes");
    expect(await asTool("main", "CONFIG GET appendfsync")).toBe("appendfsync\neverysec");
    expect(await asTool("main", "CONFIG GET maxmemory")).toBe(`maxmemory\n${MAXMEMORY}`);
    expect(await asTool("main", "CONFIG GET save")).toBe("save\n300 100");
    expect(await asTool("main", "CONFIG GET aof-use-rdb-preamble")).toBe("aof-use-rdb-preamble\nyes");

    expect(await sh("stat -c '%a %U %G' /etc/sparks/spark-redis/main.password")).toBe("640 root redis\n");
    expect(await sh(`stat -c '%a %U %G' ${TOOL_PASSWORD}`)).toBe("600 root root\n");
    expect(await sh(`stat -c '%a %U %G %n' ${REDIS_ROOT}/main ${REDIS_ROOT}/main/redis.conf ${REDIS_ROOT}/main/users.acl ${REDIS_ROOT}/main/data`)).toBe(
      `750 root redis ${REDIS_ROOT}/main\n640 root redis ${REDIS_ROOT}/main/redis.conf\n640 root redis ${REDIS_ROOT}/main/users.acl\n750 redis redis ${REDIS_ROOT}/main/data\n`,
    );
    expect(await sh(`grep -cF -e ${posixQuote(secret)} ${REDIS_ROOT}/main/users.acl ${REDIS_ROOT}/main/redis.conf || true`)).toBe(`${REDIS_ROOT}/main/users.acl:0\n${REDIS_ROOT}/main/redis.conf:0\n`);
    expect(await sh("systemctl is-enabled spark-redis@main")).toBe("enabled\n");
    expect(await sh(`btrfs subvolume show ${REDIS_ROOT}/main | head -1`)).toContain("main");
    expect(await sh(`ls ${REDIS_ROOT}/main/data/appendonlydir`)).toMatch(/appendonly\.aof\.manifest/);
  });

  it("TLS only: the printed URI connects over TLS, the plain protocol is refused on the port, a foreign CA fails", async () => {
    const secret = await password("main");
    // What the URI says, with the password from the environment: redis-cli -u would put it on a command line.
    const printed = new URL(await uri("main"));
    expect(printed.protocol).toBe("rediss:");
    const fromUri = `--tls --cacert ${printed.searchParams.get("ssl_ca_certs")} -h ${printed.hostname} -p ${printed.port} --user ${printed.username} -n ${printed.pathname.slice(1)}`;
    const auth = "REDISCLI_AUTH=$(cat /etc/sparks/spark-redis/main.password)";
    expect(decodeURIComponent(printed.password)).toBe(secret);
    expect((await sh(`${auth} redis-cli --no-auth-warning ${fromUri} ACL WHOAMI`)).trim()).toBe("main");
    const plain = await run(`${auth} redis-cli --no-auth-warning -h 127.0.0.1 -p ${mainPort} --user main PING`);
    expect(plain.stdout).not.toContain("PONG");
    expect(`${plain.stdout}${plain.stderr}`).toMatch(/Connection reset|closed the connection|Error/i);
    expect(await sh(`grep -c '^port 0$' ${REDIS_ROOT}/main/redis.conf`)).toBe("1\n");
    await sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /tmp/other-ca.key -out /tmp/other-ca.crt -days 2 -subj /CN=other 2>/dev/null");
    const foreign = await run(`${auth} redis-cli --no-auth-warning --tls --cacert /tmp/other-ca.crt -h 127.0.0.1 -p ${mainPort} --user main PING`);
    expect(foreign.stdout).not.toContain("PONG");
    expect(`${foreign.stdout}${foreign.stderr}`).toMatch(/certificate verify failed|SSL/i);
  });

  it("status shows when the certificate expires; reload-tls makes running instances serve a renewed one without a restart", async () => {
    const s = await status("main");
    const days = (Date.parse(s.tls.not_after) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89);
    expect(days).toBeLessThanOrEqual(90);
    const served = () => sh(`openssl s_client -connect 127.0.0.1:${mainPort} </dev/null 2>/dev/null | openssl x509 -noout -serial`);
    const current = () => sh("openssl x509 -noout -serial -in /etc/sparks/tls/current/server.crt");
    const first = await served();
    expect(first).toBe(await current());
    const pid = s.pid;
    await host.issueCertificate("127.0.0.1", "127.0.0.2");
    const second = await served();
    expect(second).not.toBe(first);
    expect(second).toBe(await current());
    expect((await status("main")).pid).toBe(pid);
    expect(await cli("main", "ACL WHOAMI")).toBe("main");
    await host.issueCertificate("127.0.0.1");
    expect(await served()).toBe(await current());
  });

  it("fork under continuous writes holds every key acknowledged before the fork began; the source keeps serving", async () => {
    const secret = await password("main");
    const pidBefore = (await status("main")).pid;
    await sh("cat > /tmp/writer.py", WRITER);
    await sh("rm -f /tmp/acked /tmp/final");
    // Background load that keeps redis' fsync thread busy, the case where `everysec` postpones AOF writes.
    const load = run(`redis-benchmark --tls --cacert ${CA} -h 127.0.0.1 -p ${mainPort} --user main -a ${posixQuote(secret)} -t set,lpush -n 200000 -r 100000 -c 8 -d 256 -q`);
    const writer = run(`exec python3 /tmp/writer.py ${mainPort} main ${posixQuote(secret)}`);
    await sleep(3000);
    const pid = (await sh("pgrep -f /tmp/writer.py")).trim();
    const fork = await run(`kill -USR1 ${pid}; while [ ! -e /tmp/acked ]; do sleep 0.01; done; spark-redis fork main f1 --json`);
    expect(fork.stderr).toBe("");
    expect(fork.code).toBe(0);
    const acked = Number(await sh("cat /tmp/acked"));
    expect(acked).toBeGreaterThan(100);
    await sleep(1500);
    await sh(`kill -TERM ${pid}`);
    expect((await writer).code).toBe(0);
    const final = Number(await sh("cat /tmp/final"));
    expect(final).toBeGreaterThan(acked); // the source kept taking writes during and after the fork
    await load;

    const f1 = JSON.parse(fork.stdout);
    console.log(`fork under load: acknowledged before the fork ${acked + 1}, after it ${final + 1}; ${JSON.stringify(f1.timings_ms)}`);
    expect(f1).toMatchObject({ name: "f1", state: "active", enabled: true, role: "f1", source: "main", forked_from_snapshot: `${REDIS_ROOT}/.snapshots/f1@origin` });
    expect(f1.port).not.toBe(mainPort);
    expect(await cli("f1", `EVAL ${posixQuote(FIRST_MISSING)} 0 ${acked}`)).toBe("-1");
    // Its twin: the check does find keys that were never written.
    expect(await cli("f1", `EVAL ${posixQuote(FIRST_MISSING)} 0 ${final + 1000}`)).not.toBe("-1");
    expect(await cli("main", `EVAL ${posixQuote(FIRST_MISSING)} 0 ${final}`)).toBe("-1");

    expect(await cli("f1", "ACL WHOAMI")).toBe("f1");
    const f1Secret = await password("f1");
    expect(f1Secret).not.toBe(secret);
    expect(JSON.stringify(await login(f1.port, "PING", "main", secret))).toContain("WRONGPASS");
    expect(JSON.stringify(await login(f1.port, "PING", "f1", secret))).toContain("WRONGPASS");
    expect((await login(f1.port, "PING", "f1", f1Secret)).stdout.trim()).toBe("PONG");
    expect(JSON.stringify(await login(f1.port, "PING"))).toContain("NOAUTH");

    const s = await status("main");
    expect(s.state).toBe("active");
    expect(s.pid).toBe(pidBefore);
    expect(await asTool("main", "CONFIG GET appendfsync")).toBe("appendfsync\neverysec");
    expect(JSON.stringify(await login(mainPort, "PING", "f1", f1Secret))).toContain("WRONGPASS");
  });

  it("status --json reports state, port, snapshots and qgroup sizes; list shows both", async () => {
    await sh("btrfs filesystem sync /srv/sparks");
    const s = await status("f1");
    expect(Object.keys(s).sort()).toEqual(
      ["address", "created_at", "database", "enabled", "expires_at", "expiry_timer", "forked_from_snapshot", "name", "path", "pid", "port", "role", "size", "snapshots", "source", "state", "tls", "unit"].sort(),
    );
    expect(s).toMatchObject({ state: "active", path: `${REDIS_ROOT}/f1`, unit: "spark-redis@f1.service", snapshots: [], expires_at: null, expiry_timer: null });
    expect(s.pid).toBeGreaterThan(0);
    expect(s.size.shared_bytes + s.size.exclusive_bytes).toBe(s.size.referenced_bytes);
    const list = JSON.parse(await sh("spark-redis list --json"));
    expect(list.map((i: { name: string }) => i.name)).toEqual(["f1", "main"]);
    expect((await sh("spark-redis list")).split("\n")[0]).toMatch(/^NAME\s+STATE\s+PORT\s+SOURCE\s+EXPIRES$/);
  });

  it("reset returns a fork to its fork-time state; snapshot and rollback; port and password stay", async () => {
    const credentials = await uri("f1");
    const keys = await cli("f1", "DBSIZE");
    await cli("f1", "FLUSHALL");
    expect(await cli("f1", "DBSIZE")).toBe("0");
    expect((await tool("reset f1")).code).toBe(0);
    expect(await cli("f1", "DBSIZE")).toBe(keys);
    expect(await uri("f1")).toBe(credentials);
    expect(await cli("f1", "ACL WHOAMI")).toBe("f1");

    await cli("f1", "SET marker before");
    expect((await tool("snapshot f1 before-mig")).code).toBe(0);
    expect(await sh(`btrfs property get -ts ${REDIS_ROOT}/.snapshots/f1@before-mig ro`)).toBe("ro=true\n");
    await cli("f1", "SET marker after");
    expect((await tool("rollback f1 before-mig")).code).toBe(0);
    expect(await cli("f1", "GET marker")).toBe("before");
    expect(await uri("f1")).toBe(credentials);

    const fromTag = JSON.parse(await sh("spark-redis fork f1@before-mig f2 --json"));
    expect(fromTag).toMatchObject({ source: "f1@before-mig", role: "f2" });
    expect(await cli("f2", "GET marker")).toBe("before");
    expect(await cli("f2", "ACL WHOAMI")).toBe("f2");
    expect((await tool("destroy f2")).code).toBe(0);

    const refused = await tool("reset main");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("spark-redis: error: 'main' is not a fork");
  });

  it("fork from a stopped source: the copy runs, the source stays stopped and unchanged", async () => {
    await sh("spark-redis stop f1");
    const digest = `find ${REDIS_ROOT}/f1 -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum`;
    const before = await sh(digest);
    const s1 = JSON.parse(await sh("spark-redis fork f1 s1 --json"));
    expect(s1).toMatchObject({ state: "active", source: "f1", role: "s1" });
    expect(await cli("s1", "GET marker")).toBe("before");
    expect(await sh(digest)).toBe(before);
    expect(await sh("systemctl is-active spark-redis@f1 || true")).toBe("inactive\n");
    await sh("spark-redis destroy s1");
    expect(await sh("spark-redis start f1")).toBe("f1: started\n");
  });

  it("concurrent forks of one source each get their own port", async () => {
    const out = await sh("spark-redis fork main c1 > /tmp/c1.out 2>&1 & p1=$!; spark-redis fork main c2 > /tmp/c2.out 2>&1 & p2=$!; wait $p1; r1=$?; wait $p2; echo $r1 $?");
    expect(out.trim()).toBe("0 0");
    const [c1, c2] = [await status("c1"), await status("c2")];
    expect(new Set([c1.port, c2.port, mainPort]).size).toBe(3);
    expect(await cli("c1", "ACL WHOAMI")).toBe("c1");
    expect(await cli("c2", "ACL WHOAMI")).toBe("c2");
    await sh("spark-redis destroy c1 && spark-redis destroy c2");
  });

  it("least privilege: the instance's user cannot reconfigure the server, its ACL or shut it down; the host's user reads no key and manages no user", async () => {
    for (const command of ["CONFIG SET bind 0.0.0.0", "CONFIG GET maxmemory", "ACL SETUSER default on nopass", "SHUTDOWN NOSAVE", "MONITOR", "REPLICAOF 127.0.0.1 1"]) {
      expect(await cli("main", command), command).toMatch(/^NOPERM/);
    }
    expect(await cli("main", "SET tenant:key 1")).toBe("OK");
    expect(await cli("main", "EVAL \"return redis.call('GET', KEYS[1])\" 1 tenant:key")).toBe("1");
    for (const command of ["GET tenant:key", "SET tenant:key 2", "ACL SETUSER main nopass", "SHUTDOWN NOSAVE", "FLUSHALL"]) {
      expect(await asTool("main", command), command).toMatch(/^NOPERM/);
    }
    expect(await asTool("main", "PING")).toBe("PONG");
    expect((await status("main")).state).toBe("active");
    await cli("main", "DEL tenant:key");
  });

  it("ensure creates once, reports unchanged, starts a stopped instance, and applies changed settings", async () => {
    expect((await sh("spark-redis ensure e1 --fork-of main")).trim().split("\n").slice(-2)).toEqual(["sparks-instance: created", "sparks-result: changed"]);
    expect(await sh("spark-redis ensure e1 --fork-of main")).toMatch(/sparks-instance: existed\nsparks-result: unchanged\n$/);
    await sh("systemctl stop spark-redis@e1");
    expect(await sh("spark-redis ensure e1 --fork-of main")).toMatch(/sparks-result: changed\n$/);
    expect(await sh("systemctl is-active spark-redis@e1")).toBe("active\n");
    await withConfig({ ...CONFIG, maxmemory: 128 * 1024 * 1024 }, async () => {
      expect(await sh("spark-redis ensure e1 --fork-of main")).toMatch(/settings changed, restarted\nsparks-instance: existed\nsparks-result: changed\n$/);
      expect(await asTool("e1", "CONFIG GET maxmemory")).toBe(`maxmemory\n${128 * 1024 * 1024}`);
      expect(await cli("e1", "ACL WHOAMI")).toBe("e1");
    });
    await sh("spark-redis destroy e1");
  });

  it("a fork with a TTL is destroyed by its timer", async () => {
    const t1 = JSON.parse(await sh("spark-redis fork main t1 --ttl 5s --json"));
    expect(t1.expiry_timer).toBe("spark-redis-expire@t1.timer");
    expect(Date.parse(t1.expires_at) - Date.parse(t1.created_at)).toBe(5000);
    expect(await sh("spark-redis destroy t1 --expired")).toMatch(/not expired/);
    const deadline = Date.now() + 45_000;
    while ((await run(`test -e ${REDIS_ROOT}/t1`)).code === 0 && Date.now() < deadline) await sleep(1000);
    expect((await run(`test -e ${REDIS_ROOT}/t1`)).code).not.toBe(0);
    expect(await sh("journalctl -u spark-redis-expire@t1.service -o cat --no-pager")).toContain("destroyed t1 (expired)");
    for (const gone of [`${REDIS_ROOT}/.snapshots/t1@origin`, "/etc/sparks/spark-redis/t1.password", "/etc/systemd/system/spark-redis-expire@t1.timer"]) {
      expect((await run(`test -e ${posixQuote(gone)}`)).code, gone).not.toBe(0);
    }
    expect((await tool("status t1")).code).toBe(3);
  });

  describe("bad input: clear error, exit code, nothing half-created, source untouched", () => {
    const cases: Array<[string, string, number, string]> = [
      ["an invalid name", "fork main Bad_Name", 2, "spark-redis: error: invalid instance name 'Bad_Name': must match ^[a-z][a-z0-9-]{0,31}$"],
      ["a reserved name", "new default", 2, "invalid instance name 'default': reserved"],
      ["an unknown source", "fork nosuch x1", 3, "spark-redis: error: no instance named 'nosuch'"],
      ["an existing name", "fork main f1", 4, "spark-redis: error: instance 'f1' already exists"],
      ["an invalid TTL", "fork main x1 --ttl 5y", 2, "invalid --ttl '5y'"],
      ["an unknown snapshot", "rollback f1 nosuch", 3, "instance 'f1' has no snapshot 'nosuch'"],
      ["connecting to an unknown instance", "connect nosuch", 3, "no instance named 'nosuch'"],
      ["an unknown verb", "frobnicate", 2, "spark-redis: error: argument VERB: invalid choice: 'frobnicate'"],
    ];
    it.each(cases)("%s (spark-redis %s) exits %i", async (_what, args, code, message) => {
      const before = [await sh(FOOTPRINT), await sourceState("main")];
      const r = await tool(args);
      expect(r.stderr).toContain(message);
      expect(r.code).toBe(code);
      expect([await sh(FOOTPRINT), await sourceState("main")]).toEqual(before);
    });

    it("an exhausted port pool exits 5", async () => {
      const before = [await sh(FOOTPRINT), await sourceState("main")];
      await withConfig({ ...CONFIG, ports: [mainPort, mainPort] }, async () => {
        const r = await tool("fork main x1");
        expect(r.stderr).toContain(`spark-redis: error: port pool ${mainPort}-${mainPort} is exhausted`);
        expect(r.code).toBe(5);
      });
      expect([await sh(FOOTPRINT), await sourceState("main")]).toEqual(before);
    });

    it("a config without AOF-compatible settings is refused by name", async () => {
      await withConfig({ ...CONFIG, appendfsync: "sometimes", appendonly: false }, async () => {
        const r = await tool("fork main x1");
        expect(r.stderr).toContain("unknown key 'appendonly'");
        expect(r.stderr).toContain("appendfsync: must be one of always, everysec, no");
        expect(r.code).toBe(1);
      });
    });

    it("a source that refuses the tool's credentials is not copied at all", async () => {
      const before = [await sh(FOOTPRINT), await sourceState("main")];
      const secret = (await sh(`cat ${TOOL_PASSWORD}`)).trim();
      await sh(`echo not-the-password > ${TOOL_PASSWORD}`);
      try {
        const r = await tool("fork main x1");
        expect(r.stderr).toContain("spark-redis: error: could not prepare main for the snapshot, so nothing was copied");
        expect(r.stderr).toContain("WRONGPASS");
        expect(r.code).toBe(1);
      } finally {
        await sh(`printf "%s\\n" ${posixQuote(secret)} > ${TOOL_PASSWORD}`);
      }
      expect([await sh(FOOTPRINT), await sourceState("main")]).toEqual(before);
    });

    it("a fork whose copy cannot start removes its subvolume, snapshot, unit and password; the source's setting is back", async () => {
      await sh("spark-redis fork main broken && spark-redis stop broken");
      await sh(`echo 'garbage' > ${REDIS_ROOT}/broken/data/appendonlydir/appendonly.aof.manifest`);
      const before = [await sh(FOOTPRINT), await sourceState("main")];
      const r = await tool("fork broken x1");
      expect(r.stderr).toContain("spark-redis: error: spark-redis@x1.service did not start");
      expect(r.code).toBe(1);
      expect([await sh(FOOTPRINT), await sourceState("main")]).toEqual(before);
      await sh("spark-redis destroy broken");
    });
  });

  it("destroy removes the instance, its snapshots, unit, password; a second destroy exits 3", async () => {
    expect(await sh("spark-redis destroy f1")).toBe("destroyed f1\n");
    for (const gone of [`${REDIS_ROOT}/f1`, `${REDIS_ROOT}/.snapshots/f1@origin`, `${REDIS_ROOT}/.snapshots/f1@before-mig`, "/etc/sparks/spark-redis/f1.password", "/etc/systemd/system/multi-user.target.wants/spark-redis@f1.service"]) {
      expect((await run(`test -e ${posixQuote(gone)}`)).code, gone).not.toBe(0);
    }
    expect(await sh("systemctl is-active spark-redis@f1 || true")).toBe("inactive\n");
    const again = await tool("destroy f1");
    expect(again.code).toBe(3);
    expect((await sh("spark-redis list")).trim().split("\n").slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["main"]);
  });
});
