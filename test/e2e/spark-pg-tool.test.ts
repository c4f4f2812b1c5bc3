import * as path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { posixQuote } from "../../lib/shell-quote";
import { e2eBlockerFor, ROOT } from "./support";
import { footprint, sleep, toolSandboxHost } from "./tool-support";

const blocker = e2eBlockerFor("the spark-pg e2e tests");

const INSTALL_DIR = "/usr/local/lib/sparks/host-tools";
const PG_ROOT = "/srv/sparks/pg";
const PG_BIN = "/usr/lib/postgresql/15/bin";
const MIN_FREE = 512 * 1024 * 1024;
/** The sandbox shares the machine's network: loopback only, and only this port range. */
const CONFIG = { version: 15, root: PG_ROOT, listen: "127.0.0.1", ports: [25432, 25499], min_free_bytes: MIN_FREE };

const PACKAGES = `mkdir -p /etc/postgresql-common
echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf
apt-get update -qq
apt-get install -y -qq postgresql-15 python3 btrfs-progs iproute2 >/dev/null`;

/** The pgbench TPC-B oracle: these four sums are equal in every consistent copy. */
const BALANCES = `select concat_ws(' ', (select sum(abalance) from pgbench_accounts), (select sum(bbalance) from pgbench_branches),
  (select sum(tbalance) from pgbench_tellers), (select coalesce(sum(delta), 0) from pgbench_history))`;
const ACCOUNTS_DIGEST = "select count(*) || ':' || sum(hashtext(aid || ':' || abalance)::bigint) from pgbench_accounts";

const FOOTPRINT = footprint("spark-pg", PG_ROOT);

const host = toolSandboxHost({ tool: "spark-pg", root: PG_ROOT, stateDir: path.join(ROOT, ".sandbox-pgtool"), diskSize: "6G", installDir: INSTALL_DIR, packages: PACKAGES, config: CONFIG });
const { run, sh, tool, status, uri, withConfig } = host;
/** One query through `spark-pg connect`: TCP to the instance's address with its own role and password. */
const sql = async (name: string, query: string) => (await sh(`spark-pg connect ${name} -- -XtAc ${posixQuote(query)}`)).trim();

/** psql with explicit credentials, to prove what the server refuses. */
function login(port: number, user: string, password: string, query = "select current_user") {
  return run(`PGPASSWORD=${posixQuote(password)} ${PG_BIN}/psql -X -tA -h 127.0.0.1 -p ${port} -U ${posixQuote(user)} -d app -c ${posixQuote(query)}`);
}

/** The source's observable state: its server process, record and data. Taken without load. */
async function sourceState(name: string) {
  const s = await status(name);
  return { pid: s.pid, record: await sh(`cat ${PG_ROOT}/${name}/instance.json`), accounts: await sql(name, ACCOUNTS_DIGEST) };
}

describe.skipIf(blocker !== undefined)("spark-pg on a sandbox host", () => {
  let mainPort: number;
  let mainPassword: string;

  host.upForTests();

  it("setup installs the unit templates once, then changes nothing", async () => {
    expect(await sh("spark-pg setup")).toBe("sparks-result: changed\n");
    expect(await sh("spark-pg setup")).toBe("sparks-result: unchanged\n");
    const unit = await sh("cat /etc/systemd/system/spark-pg@.service");
    expect(unit).toContain(`ExecStart=${PG_BIN}/postgres -D ${PG_ROOT}/%i/data`);
    expect(unit).toMatch(/^Type=notify$/m);
    expect(await sh("cat /etc/systemd/system/spark-pg-expire@.service")).toContain(`ExecStart=${INSTALL_DIR}/spark-pg destroy %i --expired`);
  });

  it("new: the role logs in over loopback with its password only; wrong passwords and unknown roles are refused", async () => {
    const created = JSON.parse(await sh("spark-pg new main --json"));
    expect(created).toMatchObject({ name: "main", state: "active", role: "main", database: "app", source: null, address: "127.0.0.1" });
    mainPort = created.port;
    expect(mainPort).toBeGreaterThanOrEqual(25432);
    expect(mainPort).toBeLessThanOrEqual(25499);
    mainPassword = (await sh("cat /etc/sparks/spark-pg/main.password")).trim();
    expect(await uri("main")).toBe(`postgresql://main:${mainPassword}@127.0.0.1:${mainPort}/app?sslmode=verify-full&sslrootcert=/etc/sparks/tls/ca.crt`);

    expect(await sql("main", "select current_user || '@' || current_database()")).toBe("main@app");
    const good = await login(mainPort, "main", mainPassword);
    expect(good.stdout.trim()).toBe("main");
    const wrong = await login(mainPort, "main", "not-the-password");
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('password authentication failed for user "main"');
    const stranger = await login(mainPort, "mallory", mainPassword);
    expect(stranger.code).toBe(2);
    expect(stranger.stderr).toContain('password authentication failed for user "mallory"');
    const superuser = await login(mainPort, "postgres", mainPassword);
    expect(superuser.code).toBe(2);

    const listeners = (await sh(`ss -Hltn 'sport = :${mainPort}'`)).trim().split("\n");
    expect(listeners.length).toBeGreaterThan(0);
    for (const line of listeners) expect(line.split(/\s+/)[3]).toBe(`127.0.0.1:${mainPort}`);
    const hba = (await sh(`grep -v '^#' ${PG_ROOT}/main/data/pg_hba.conf | grep .`)).trim().split("\n").map((l) => l.split(/\s+/).join(" "));
    expect(hba).toEqual(["local all postgres peer", "hostssl all all 127.0.0.1/32 scram-sha-256"]);

    expect(await sh("stat -c '%a %U %G' /etc/sparks/spark-pg/main.password")).toBe("640 root postgres\n");
    expect(await sh("systemctl is-enabled spark-pg@main")).toBe("enabled\n");
    expect(await sh(`btrfs subvolume show ${PG_ROOT}/main | head -1`)).toContain("main");
    await sh(`${PG_BIN}/pgbench -i -q -s 5 ${posixQuote(await uri("main"))}`);
  });

  it("TLS: the printed URI connects over TLS and verifies the server; sslmode=disable is refused", async () => {
    const ssl = "select ssl || ' ' || version from pg_stat_ssl where pid = pg_backend_pid()";
    expect((await sh(`${PG_BIN}/psql ${posixQuote(await uri("main"))} -XtAc ${posixQuote(ssl)}`)).trim()).toMatch(/^true TLSv1\.[23]$/);
    expect(await sql("main", "select ssl from pg_stat_ssl where pid = pg_backend_pid()")).toBe("t");
    const plain = await run(`PGPASSWORD=${posixQuote(mainPassword)} ${PG_BIN}/psql -XtAc 'select 1' 'host=127.0.0.1 port=${mainPort} user=main dbname=app sslmode=disable'`);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('no pg_hba.conf entry for host "127.0.0.1", user "main", database "app", no encryption');
    // A server certificate of another CA is refused by the client the URI configures.
    await sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /tmp/other-ca.key -out /tmp/other-ca.crt -days 2 -subj /CN=other 2>/dev/null");
    const foreign = await run(`PGPASSWORD=${posixQuote(mainPassword)} ${PG_BIN}/psql -XtAc 'select 1' 'host=127.0.0.1 port=${mainPort} user=main dbname=app sslmode=verify-full sslrootcert=/tmp/other-ca.crt'`);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain("certificate verify failed");
  });

  it("status shows when the certificate expires; a renewed certificate is served without a restart", async () => {
    const s = await status("main");
    expect(s.tls.ca_file).toBe("/etc/sparks/tls/ca.crt");
    const days = (Date.parse(s.tls.not_after) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89);
    expect(days).toBeLessThanOrEqual(90);
    expect(await sh("spark-pg status main")).toMatch(/tls: {7}certificate valid until \d{4}-\d\d-\d\dT/);
    const served = () => sh(`openssl s_client -starttls postgres -connect 127.0.0.1:${mainPort} </dev/null 2>/dev/null | openssl x509 -noout -serial`);
    const current = () => sh("openssl x509 -noout -serial -in /etc/sparks/tls/current/server.crt");
    const first = await served();
    expect(first).toBe(await current());
    const pid = (await status("main")).pid;
    // Another declared address: the script re-issues, swaps current and runs spark-pg reload-tls.
    await host.issueCertificate("127.0.0.1", "127.0.0.2");
    const second = await served();
    expect(second).not.toBe(first);
    expect(second).toBe(await current());
    expect(await sh("ls -d /etc/sparks/tls/server-* | wc -l")).toBe("1\n");
    expect(await sh("stat -c '%a %U %G' /etc/sparks/tls/ca.key /etc/sparks/tls/ca.crt /etc/sparks/tls/current/server.key")).toBe("600 root root\n644 root root\n640 root sparks-tls\n");
    expect(await sh("systemctl is-enabled sparks-tls-renew.timer; systemctl is-active sparks-tls-renew.timer")).toBe("enabled\nactive\n");
    // Renewal due (95 days ahead, on a 90-day certificate): the timer's service re-issues with the saved values.
    await sh(`sed -i -e 's/^declare -- RENEW_DAYS=.*/declare -- RENEW_DAYS="95"/' -e 's/^declare -- VALID_DAYS=.*/declare -- VALID_DAYS="100"/' /etc/sparks/tls/renew.params`);
    await sh("systemctl start sparks-tls-renew.service");
    const third = await served();
    expect(third).not.toBe(second);
    expect(third).toBe(await current());
    expect((await status("main")).pid).toBe(pid);
    expect((await sh(`${PG_BIN}/psql ${posixQuote(await uri("main"))} -XtAc 'select 1'`)).trim()).toBe("1");
    await host.issueCertificate("127.0.0.1");
    expect(await served()).toBe(await current());
  });

  it("a fork serves TLS with the host's certificate and its own credentials", async () => {
    await sh("spark-pg fork main tls-fork");
    try {
      const fork = await uri("tls-fork");
      expect(fork).toContain("?sslmode=verify-full&sslrootcert=/etc/sparks/tls/ca.crt");
      expect((await sh(`${PG_BIN}/psql ${posixQuote(fork)} -XtAc 'select current_user || chr(32) || ssl from pg_stat_ssl where pid = pg_backend_pid()'`)).trim()).toBe("tls-fork true");
    } finally {
      await sh("spark-pg destroy tls-fork");
    }
  });

  it("an operator's CA: installed from the deploy (key on stdin), checked before anything changes, kept by the renew timer, left for a new host CA", async () => {
    const caFiles = "/etc/sparks/tls/ca.crt /etc/sparks/tls/ca.key /etc/sparks/tls/ca.source";
    const hostCaBefore = await sh(`sha256sum ${caFiles}`);
    await sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /tmp/ops-ca.key -out /tmp/ops-ca.crt -days 400 -subj /CN=ops -addext basicConstraints=critical,CA:TRUE 2>/dev/null");
    const ops = { certificate: await sh("cat /tmp/ops-ca.crt"), key: await sh("cat /tmp/ops-ca.key && rm /tmp/ops-ca.key") };
    const other = await sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null");

    // A key that is not the certificate's: refused, and the host's CA and certificate stay as they were.
    const serverBefore = await sh("readlink /etc/sparks/tls/current");
    const refused = await host.runTlsScript(["127.0.0.1"], { certificate: ops.certificate, key: other });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("the CA key on stdin does not belong to the operator's certificate");
    expect(await sh(`sha256sum ${caFiles}`)).toBe(hostCaBefore);
    expect(await sh("readlink /etc/sparks/tls/current")).toBe(serverBefore);

    const installed = await host.runTlsScript(["127.0.0.1"], ops);
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stdout).toMatch(/changed: installed the operator's CA [0-9A-F:]{95}\n/);
    expect(installed.stdout).toContain("(the server certificate is not signed by the host CA)");
    expect(await sh("stat -c '%a %U %G' /etc/sparks/tls/ca.key && cat /etc/sparks/tls/ca.source")).toBe("600 root root\noperator\n");
    expect(await sh("cmp /tmp/ops-ca.crt /etc/sparks/tls/ca.crt && openssl verify -CAfile /tmp/ops-ca.crt /etc/sparks/tls/current/server.crt")).toContain(": OK");
    // The running instance serves the new certificate (reload-tls), which a client trusting only the operator's CA accepts.
    const opsUri = (await uri("main")).replace("sslrootcert=/etc/sparks/tls/ca.crt", "sslrootcert=/tmp/ops-ca.crt");
    expect((await sh(`${PG_BIN}/psql ${posixQuote(opsUri)} -XtAc 'select ssl from pg_stat_ssl where pid = pg_backend_pid()'`)).trim()).toBe("t");
    // The daily renewal has neither the certificate nor the key: it keeps the operator's CA.
    await sh("systemctl start sparks-tls-renew.service");
    expect(await sh("cmp /tmp/ops-ca.crt /etc/sparks/tls/ca.crt && cat /etc/sparks/tls/ca.source")).toBe("operator\n");

    // Without the operator's CA in the config again, the host makes its own and re-issues.
    await host.issueCertificate("127.0.0.1");
    expect(await sh("cat /etc/sparks/tls/ca.source")).toBe("host\n");
    expect((await run("cmp -s /tmp/ops-ca.crt /etc/sparks/tls/ca.crt")).code).toBe(1);
    expect(await sh("openssl verify -CAfile /etc/sparks/tls/ca.crt /etc/sparks/tls/current/server.crt")).toContain(": OK");
    expect(await sql("main", "select ssl from pg_stat_ssl where pid = pg_backend_pid()")).toBe("t");
  });

  it("fork under write load: consistent copy with its own role, port and password; the source keeps serving", async () => {
    const pidBefore = (await status("main")).pid;
    const record = await sh(`cat ${PG_ROOT}/main/instance.json`);
    const load = run(`${PG_BIN}/pgbench -c 4 -j 2 -T 12 -n ${posixQuote(await uri("main"))}`);
    await sleep(3000);
    const fork = await tool("fork main f1 --json");
    expect(fork.stderr).toBe("");
    expect(fork.code).toBe(0);
    const f1 = JSON.parse(fork.stdout);
    console.log(`fork under load: ${JSON.stringify(f1.timings_ms)}`);
    expect(f1).toMatchObject({ name: "f1", state: "active", enabled: true, role: "f1", source: "main", forked_from_snapshot: `${PG_ROOT}/.snapshots/f1@origin` });
    expect(f1.port).not.toBe(mainPort);

    // Mid-load copy: writes happened, and the four balance sums agree.
    expect(Number(await sql("f1", "select count(*) from pgbench_history"))).toBeGreaterThan(0);
    const [a, b, t, h] = (await sql("f1", BALANCES)).split(" ");
    expect([b, t, h]).toEqual([a, a, a]);
    expect(await sql("f1", "select current_user")).toBe("f1");
    expect(await sql("f1", "select count(*) from pg_roles where rolname = 'main'")).toBe("0");
    const f1Password = (await sh("cat /etc/sparks/spark-pg/f1.password")).trim();
    expect(f1Password).not.toBe(mainPassword);
    expect((await login(f1.port, "main", mainPassword)).code).toBe(2);
    expect((await login(f1.port, "f1", mainPassword)).code).toBe(2);

    const bench = await load;
    expect(bench.code).toBe(0);
    expect(bench.stdout).toMatch(/number of failed transactions: 0 /);
    const s = await status("main");
    expect(s.state).toBe("active");
    expect(s.pid).toBe(pidBefore);
    expect(await sh(`cat ${PG_ROOT}/main/instance.json`)).toBe(record);
    expect(await sql("main", "select count(*) from pg_roles where rolname = 'f1'")).toBe("0");
    expect((await login(mainPort, "main", mainPassword)).stdout.trim()).toBe("main");
    const [ma, mb, mt, mh] = (await sql("main", BALANCES)).split(" ");
    expect([mb, mt, mh]).toEqual([ma, ma, ma]);
  });

  it("status --json reports state, port, snapshots and qgroup sizes (exclusive vs shared)", async () => {
    await sh("btrfs filesystem sync /srv/sparks");
    const s = await status("f1");
    expect(Object.keys(s).sort()).toEqual(
      ["address", "created_at", "database", "enabled", "expires_at", "expiry_timer", "forked_from_snapshot", "name", "path", "pid", "port", "role", "size", "snapshots", "source", "state", "tls", "unit"].sort(),
    );
    expect(s).toMatchObject({ state: "active", path: `${PG_ROOT}/f1`, unit: "spark-pg@f1.service", snapshots: [], expires_at: null, expiry_timer: null });
    expect(s.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(s.size.referenced_bytes).toBeGreaterThan(50_000_000);
    expect(s.size.shared_bytes).toBeGreaterThan(s.size.exclusive_bytes);
    expect(s.size.shared_bytes + s.size.exclusive_bytes).toBe(s.size.referenced_bytes);
    const list = JSON.parse(await sh("spark-pg list --json"));
    expect(list.map((i: { name: string }) => i.name)).toEqual(["f1", "main"]);
    expect((await sh("spark-pg list")).split("\n")[0]).toMatch(/^NAME\s+STATE\s+PORT\s+SOURCE\s+EXPIRES$/);
  });

  it("reset returns a fork to its fork-time state; port and password stay", async () => {
    const before = await status("f1");
    const credentials = await uri("f1");
    const history = await sql("f1", "select count(*) from pgbench_history");
    await sql("f1", "create table junk(a int); delete from pgbench_history; update pgbench_accounts set abalance = 0");
    expect(await sql("f1", "select count(*) from pgbench_history")).toBe("0");

    const reset = await tool("reset f1");
    expect(reset.code).toBe(0);
    expect(await sql("f1", "select to_regclass('junk') is null")).toBe("t");
    expect(await sql("f1", "select count(*) from pgbench_history")).toBe(history);
    const [a, b, t, h] = (await sql("f1", BALANCES)).split(" ");
    expect([b, t, h]).toEqual([a, a, a]);
    expect(await uri("f1")).toBe(credentials);
    const after = await status("f1");
    expect(after.port).toBe(before.port);
    expect(after.created_at).toBe(before.created_at);
    expect(await sh(`ls -1a ${PG_ROOT}`)).not.toMatch(/\.(old|tmp)-f1/);

    const refused = await tool("reset main");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("spark-pg: error: 'main' is not a fork");
  });

  it("snapshot and rollback around a schema change", async () => {
    const credentials = await uri("f1");
    expect((await tool("snapshot f1 before-mig")).code).toBe(0);
    expect(await sh(`btrfs property get -ts ${PG_ROOT}/.snapshots/f1@before-mig ro`)).toBe("ro=true\n");
    expect((await status("f1")).snapshots).toEqual(["before-mig"]);

    await sql("f1", "alter table pgbench_accounts add column note text default 'migrated'; drop table pgbench_history");
    expect(await sql("f1", "select to_regclass('pgbench_history') is null")).toBe("t");

    const again = await tool("snapshot f1 before-mig");
    expect(again.code).toBe(4);
    expect(again.stderr).toContain("already has a snapshot 'before-mig'");

    const rollback = await tool("rollback f1 before-mig");
    expect(rollback.code).toBe(0);
    expect(await sql("f1", "select count(*) from information_schema.columns where table_name = 'pgbench_accounts' and column_name = 'note'")).toBe("0");
    expect(await sql("f1", "select to_regclass('pgbench_history') is not null")).toBe("t");
    const [a, b, t, h] = (await sql("f1", BALANCES)).split(" ");
    expect([b, t, h]).toEqual([a, a, a]);
    expect(await uri("f1")).toBe(credentials);
    expect((await status("f1")).snapshots).toEqual(["before-mig"]);

    const fromTag = JSON.parse(await sh("spark-pg fork f1@before-mig f2 --json"));
    expect(fromTag).toMatchObject({ source: "f1@before-mig", role: "f2" });
    expect(await sql("f2", "select current_user || ' ' || (select count(*) from information_schema.columns where column_name = 'note')")).toBe("f2 0");
    expect((await tool("destroy f2")).code).toBe(0);
  });

  it("fork from a stopped source: the copy runs, the source stays stopped and unchanged", async () => {
    await sh("spark-pg stop f1");
    const digest = `find ${PG_ROOT}/f1 -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum`;
    const before = await sh(digest);
    const s1 = JSON.parse(await sh("spark-pg fork f1 s1 --json"));
    expect(s1).toMatchObject({ state: "active", source: "f1", role: "s1" });
    expect(await sql("s1", "select current_user || ' ' || (select count(*) > 0 from pgbench_history)")).toBe("s1 true");
    expect(await sh(digest)).toBe(before);
    expect(await sh("systemctl is-active spark-pg@f1 || true")).toBe("inactive\n");
    expect(await sh("systemctl is-enabled spark-pg@f1 || true")).toBe("disabled\n");
    await sh("spark-pg destroy s1");
    expect(await sh("spark-pg start f1")).toBe("f1: started\n");
    expect(await sql("f1", "select current_user")).toBe("f1");
  });

  it("concurrent forks of one source each get their own port", async () => {
    const out = await sh("spark-pg fork main c1 > /tmp/c1.out 2>&1 & p1=$!; spark-pg fork main c2 > /tmp/c2.out 2>&1 & p2=$!; wait $p1; r1=$?; wait $p2; echo $r1 $?");
    expect(out.trim()).toBe("0 0");
    const [c1, c2] = [await status("c1"), await status("c2")];
    expect(c1.state).toBe("active");
    expect(c2.state).toBe("active");
    expect(new Set([c1.port, c2.port, mainPort]).size).toBe(3);
    expect(await sql("c1", "select current_user")).toBe("c1");
    expect(await sql("c2", "select current_user")).toBe("c2");
    await sh("spark-pg destroy c1 && spark-pg destroy c2");
  });

  it("a local user holding a file where the lock used to be, or trying the new one, cannot block a fork", async () => {
    await sh("id mallory >/dev/null 2>&1 || useradd --system --no-create-home mallory");
    // The old place (/run/lock is 1777): mallory creates the file first and holds it.
    await sh("rm -f /run/lock/spark-pg.lock; setsid runuser -u mallory -- flock /run/lock/spark-pg.lock sleep 120 >/dev/null 2>&1 < /dev/null &");
    expect(await sh("for i in $(seq 50); do [ -e /run/lock/spark-pg.lock ] && break; sleep 0.1; done; stat -c %U /run/lock/spark-pg.lock")).toBe("mallory\n");
    const touch = await run("runuser -u mallory -- touch /run/sparks/locks/spark-pg.lock");
    expect(touch.code).not.toBe(0);
    expect(touch.stderr).toContain("Permission denied");
    try {
      const fork = await run("timeout 60 spark-pg fork main blocked-not");
      expect(fork.stderr).not.toContain("waiting for another");
      expect(fork.code, fork.stderr).toBe(0);
      expect(await sh("stat -c '%U %a' /run/sparks /run/sparks/locks /run/sparks/locks/spark-pg.lock")).toBe("root 700\nroot 700\nroot 600\n");
    } finally {
      await sh("pkill -u mallory || true; rm -f /run/lock/spark-pg.lock; spark-pg destroy blocked-not >/dev/null 2>&1 || true");
    }
  });

  it("the tool refuses a lock directory another user can write, naming it", async () => {
    await sh("chmod 0777 /run/sparks/locks");
    try {
      const fork = await run("spark-pg fork main never");
      expect(fork.code).toBe(1);
      expect(fork.stderr).toContain("/run/sparks/locks is not a directory only root can write (uid 0, mode 777)");
      expect((await run("test -e /srv/sparks/pg/never")).code).not.toBe(0);
    } finally {
      await sh("chmod 0700 /run/sparks/locks");
    }
  });

  it("no password reaches a command line: a sampler of every process's cmdline sees neither the source's nor the fork's", async () => {
    // A sampler in Python: a full pass over /proc takes a few ms, so even the fork's short-lived children are seen.
    const sampler = `import os, sys, time
seen = set()
while os.path.exists("/tmp/sampling"):
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                seen.add(open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode(errors="replace"))
            except OSError:
                pass
open("/tmp/cmdlines", "w").write("\\n".join(sorted(seen)) + "\\n")
`;
    await sh("cat > /tmp/sampler.py && touch /tmp/sampling && (setsid python3 /tmp/sampler.py >/dev/null 2>&1 < /dev/null &)", sampler);
    try {
      await sh("sleep 0.3; spark-pg fork main sampled >/dev/null");
      expect(await sh("spark-pg connect sampled -- -XtAc 'select 1'")).toBe("1\n");
      expect(await sh("spark-pg connect sampled --run -- sh -c 'echo $PGUSER@$PGDATABASE:$PGPORT'")).toBe(`sampled@app:${(await status("sampled")).port}\n`);
      await sh("spark-pg connect sampled --run -- pgbench -i -q -s 1 >/dev/null 2>&1");
    } finally {
      await sh("rm -f /tmp/sampling; for i in $(seq 50); do [ -s /tmp/cmdlines ] && break; sleep 0.1; done");
    }
    const cmdlines = await sh("cat /tmp/cmdlines");
    // The sampler saw the commands themselves (else it proves nothing)...
    expect(cmdlines).toContain("spark-pg fork main sampled");
    expect(cmdlines).toMatch(/pgbench -i -q -s 1/);
    // ...and no password in any of them.
    for (const name of ["main", "sampled"]) {
      const password = (await sh(`cat /etc/sparks/spark-pg/${name}.password`)).trim();
      expect(password.length).toBeGreaterThan(16);
      expect(cmdlines.includes(password), `${name}'s password on a command line`).toBe(false);
    }
    await sh("spark-pg destroy sampled; rm -f /tmp/cmdlines /tmp/sampler.py");
  });

  it("a fork filled until its writes fail stops at its own limit, while main keeps committing; status shows the limit", async () => {
    const LIMIT = 64 * 1024 * 1024;
    await withConfig({ ...CONFIG, fork_limit_bytes: LIMIT }, async () => {
      await sh("spark-pg fork main filler");
      onTestFinished(async () => {
        await run("spark-pg destroy filler");
      });
      expect((await status("filler")).size.exclusive_limit_bytes).toBe(LIMIT);
      expect((await status("main")).size.exclusive_limit_bytes).toBe(null);
      await sql("main", "create table if not exists heartbeat (at timestamptz default now())");
      // main commits every 50 ms while the fork is filled with hard-to-compress rows, 8 MB a statement.
      const out = await sh(`touch /tmp/filling; rm -f /tmp/main-ok /tmp/main-fail
(while [ -e /tmp/filling ]; do
  if spark-pg connect main -- -XtAqc 'insert into heartbeat default values' >/dev/null 2>&1; then echo >> /tmp/main-ok; else echo >> /tmp/main-fail; fi
  sleep 0.05
done) &
writer=$!
result=full-never
for i in $(seq 1 100); do
  if ! spark-pg connect filler -- -XtAqc "create table if not exists fill (t text); insert into fill select md5(random()::text) || md5(random()::text) || md5(random()::text) from generate_series(1, 80000)" >/dev/null 2>/tmp/fill-error; then
    result="failed-after-$i"; break
  fi
done
rm -f /tmp/filling; wait $writer
echo "$result ok=$(wc -l < /tmp/main-ok) fail=$(cat /tmp/main-fail 2>/dev/null | wc -l)"`);
      console.log(`fork filled to its limit: ${out.trim()}`);
      const [result, okCount, failCount] = out.trim().split(" ");
      expect(result).toMatch(/^failed-after-\d+$/);
      expect(Number(result.split("-").pop())).toBeGreaterThan(2);
      expect(Number(okCount.split("=")[1])).toBeGreaterThan(5);
      expect(failCount).toBe("fail=0");
      // The client gets the error, or (a WAL write failing is a PANIC) the server's log has it. A
      // write the quota cuts in the middle comes back short, without an errno: Postgres says so
      // instead. Main committing throughout (above) shows it was the fork's limit, not a full disk.
      const why = await sh("cat /tmp/fill-error; journalctl --sync; journalctl -u spark-pg@filler -o cat --no-pager");
      expect(why).toMatch(/Disk quota exceeded|could not extend file "[^"]+": wrote only \d+ of \d+ bytes/);
      expect(await sql("main", "select count(*) > 0 from heartbeat")).toBe("t");
      await sh("spark-pg destroy filler");
      // The destroyed fork's limit is promised to nobody: a fork of the same limit fits again.
      await sh("spark-pg fork main filler2 && spark-pg destroy filler2");

      // A fork is refused when its limit does not fit beside min_free_bytes.
      await withConfig({ ...CONFIG, fork_limit_bytes: 1024 * 1024 * 1024 * 1024 }, async () => {
        const refused = await tool("fork main toobig");
        expect(refused.code).toBe(6);
        expect(refused.stderr).toMatch(/not enough disk space on \/srv\/sparks\/pg for another fork: .* a new one needs 1\.0 TiB \(fork_limit_bytes\)/);
        expect((await run("test -e /srv/sparks/pg/toobig")).code).not.toBe(0);
      });
    });
  }, 300_000);

  it("ensure creates once, then reports unchanged, and starts a stopped instance", async () => {
    const first = await sh("spark-pg ensure e1 --fork-of main");
    expect(first.trim().split("\n").slice(-2)).toEqual(["sparks-instance: created", "sparks-result: changed"]);
    expect(await sh("spark-pg ensure e1 --fork-of main")).toMatch(/sparks-instance: existed\nsparks-result: unchanged\n$/);
    await sh("systemctl stop spark-pg@e1");
    expect(await sh("spark-pg ensure e1 --fork-of main")).toMatch(/sparks-result: changed\n$/);
    expect(await sh("systemctl is-active spark-pg@e1")).toBe("active\n");
    expect(await sql("e1", "select current_user")).toBe("e1");
    await sh("spark-pg destroy e1");
  });

  it("a fork with a TTL is destroyed by its timer", async () => {
    const t1 = JSON.parse(await sh("spark-pg fork main t1 --ttl 5s --json"));
    expect(t1.expiry_timer).toBe("spark-pg-expire@t1.timer");
    expect(Date.parse(t1.expires_at) - Date.parse(t1.created_at)).toBe(5000);
    expect(await sh("systemctl is-active spark-pg-expire@t1.timer")).toBe("active\n");
    expect(await sh("grep -E '^(OnCalendar|Persistent)=' /etc/systemd/system/spark-pg-expire@t1.timer")).toMatch(/^OnCalendar=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\nPersistent=true\n$/);
    // Before its time, the timer's command keeps the instance.
    expect(await sh("spark-pg destroy t1 --expired")).toMatch(/not expired/);

    const deadline = Date.now() + 45_000;
    while ((await run(`test -e ${PG_ROOT}/t1`)).code === 0 && Date.now() < deadline) await sleep(1000);
    expect((await run(`test -e ${PG_ROOT}/t1`)).code).not.toBe(0);
    expect(await sh("journalctl -u spark-pg-expire@t1.service -o cat --no-pager")).toContain("destroyed t1 (expired)");
    for (const gone of [`${PG_ROOT}/.snapshots/t1@origin`, "/etc/sparks/spark-pg/t1.password", "/etc/systemd/system/spark-pg-expire@t1.timer", "/etc/systemd/system/multi-user.target.wants/spark-pg@t1.service"]) {
      expect((await run(`test -e ${posixQuote(gone)}`)).code, gone).not.toBe(0);
    }
    expect((await tool("status t1")).code).toBe(3);
  });

  it("an expiry that finds the lock held fails, and is retried until it destroys the fork", async () => {
    // Shorter than the defaults (300 s for the lock, 30 s between tries), for the test's sake.
    const dropIn = "/etc/systemd/system/spark-pg-expire@.service.d";
    await sh(`mkdir -p ${dropIn} && printf '[Service]\\nEnvironment=SPARKS_LOCK_WAIT_SECONDS=1\\nRestartSec=1\\n' > ${dropIn}/test.conf && systemctl daemon-reload`);
    try {
      await sh("spark-pg fork main t2 --ttl 3s");
      await sh("setsid flock /run/sparks/locks/spark-pg.lock sleep 12 >/dev/null 2>&1 < /dev/null &");
      const deadline = Date.now() + 60_000;
      while ((await run(`test -e ${PG_ROOT}/t2`)).code === 0 && Date.now() < deadline) await sleep(1000);
      expect((await run(`test -e ${PG_ROOT}/t2`)).code).not.toBe(0);
      const journal = await sh("journalctl -u spark-pg-expire@t2.service -o cat --no-pager");
      // A failed try, then (restarted by systemd, not by the timer, which fires once) the destroy.
      const failedAt = journal.indexOf("held /run/sparks/locks/spark-pg.lock for 1 s; giving up");
      expect(failedAt).toBeGreaterThanOrEqual(0);
      expect(journal.indexOf("destroyed t2 (expired)")).toBeGreaterThan(failedAt);
      expect(await sh("grep -E '^(RequiresMountsFor|Restart)=' /etc/systemd/system/spark-pg-expire@.service")).toBe(`RequiresMountsFor=${PG_ROOT}\nRestart=on-failure\n`);
    } finally {
      await sh(`rm -rf ${dropIn} && systemctl daemon-reload`);
    }
  }, 90_000);

  it("an expiry fails closed: a record it cannot read keeps the fork", async () => {
    await sh("spark-pg fork main t3 --ttl 1h");
    await sh(`echo '{not json' > ${PG_ROOT}/t3/instance.json`);
    const expire = await tool("destroy t3 --expired");
    expect(expire.code).toBe(1);
    expect(expire.stderr).toContain(`t3: its record ${PG_ROOT}/t3/instance.json cannot be read`);
    expect(expire.stderr).toContain("not destroyed");
    expect((await run(`test -d ${PG_ROOT}/t3/data`)).code).toBe(0);
    await sh("spark-pg destroy t3");
  });

  describe("bad input: clear error, exit code, nothing half-created, source untouched", () => {
    const cases: Array<[string, string, number, string]> = [
      ["an invalid name", "fork main Bad_Name", 2, "spark-pg: error: invalid instance name 'Bad_Name': must match ^[a-z][a-z0-9-]{0,31}$"],
      ["a reserved name", "new postgres", 2, "invalid instance name 'postgres': reserved"],
      ["an unknown source", "fork nosuch x1", 3, "spark-pg: error: no instance named 'nosuch'"],
      ["an existing name", "fork main f1", 4, "spark-pg: error: instance 'f1' already exists"],
      ["an invalid TTL", "fork main x1 --ttl 5y", 2, "invalid --ttl '5y'"],
      ["the reserved snapshot tag", "snapshot f1 origin", 2, "invalid snapshot tag 'origin': reserved"],
      ["an unknown snapshot", "rollback f1 nosuch", 3, "instance 'f1' has no snapshot 'nosuch' (tags: before-mig, origin)"],
      ["destroying an unknown instance", "destroy nosuch", 3, "no instance named 'nosuch'"],
      ["connecting to an unknown instance", "connect nosuch", 3, "no instance named 'nosuch'"],
      ["an unknown verb", "frobnicate", 2, "spark-pg: error: argument VERB: invalid choice: 'frobnicate'"],
      ["a missing argument", "fork main", 2, "spark-pg: error: fork: the following arguments are required: NAME"],
    ];
    it.each(cases)("%s (spark-pg %s) exits %i", async (_what, args, code, message) => {
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
        expect(r.stderr).toContain(`spark-pg: error: port pool ${mainPort}-${mainPort} is exhausted`);
        expect(r.code).toBe(5);
      });
      expect([await sh(FOOTPRINT), await sourceState("main")]).toEqual(before);
    });

    it("a pool inside the host's ephemeral port range exits 1 and names ports", async () => {
      const before = [await sh(FOOTPRINT), await sourceState("main")];
      const [first] = (await sh("cat /proc/sys/net/ipv4/ip_local_port_range")).trim().split(/\s+/).map(Number);
      await withConfig({ ...CONFIG, ports: [first - 2, first + 2] }, async () => {
        const r = await tool("fork main x1");
        expect(r.stderr).toContain(`spark-pg: error: ports: the pool ${first - 2}-${first + 2} overlaps this host's ephemeral port range ${first}-`);
        expect(r.code).toBe(1);
      });
      expect([await sh(FOOTPRINT), await sourceState("main")]).toEqual(before);
    });

    it("a full disk exits 6", async () => {
      const before = [await sh(FOOTPRINT), await sourceState("main")];
      const avail = Number((await sh("df -B1 --output=avail /srv/sparks | tail -1")).trim());
      await sh(`fallocate -l ${avail - 256 * 1024 * 1024} /srv/sparks/filler`);
      try {
        const r = await tool("fork main x1");
        expect(r.stderr).toMatch(/spark-pg: error: not enough disk space on \/srv\/sparks\/pg: .* free, at least 512\.0 MiB required/);
        expect(r.code).toBe(6);
        expect((await tool("new x1")).code).toBe(6);
      } finally {
        // btrfs hands freed extents back at the next transaction commit.
        await sh("rm -f /srv/sparks/filler && btrfs filesystem sync /srv/sparks");
      }
      expect([await sh(FOOTPRINT), await sourceState("main")]).toEqual(before);
    });

    it("a fork whose copy cannot start removes its subvolume, snapshot, unit and password", async () => {
      await sh("spark-pg fork main broken && spark-pg stop broken");
      await sh(`rm ${PG_ROOT}/broken/data/global/pg_control`);
      const digest = `find ${PG_ROOT}/broken -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum`;
      const before = [await sh(FOOTPRINT), await sh(digest)];
      const r = await tool("fork broken x1");
      expect(r.stderr).toContain("spark-pg: error: spark-pg@x1.service did not start");
      expect(r.code).toBe(1);
      expect([await sh(FOOTPRINT), await sh(digest)]).toEqual(before);
      expect(await sh("systemctl is-active spark-pg@broken || true")).toBe("inactive\n");
      await sh("spark-pg destroy broken");
    });
  });

  it("status reports size null when btrfs quotas are off", async () => {
    await sh("btrfs quota disable /srv/sparks");
    try {
      const s = await status("f1");
      expect(s.size).toBeNull();
      expect(s.state).toBe("active");
    } finally {
      await sh("btrfs quota enable /srv/sparks");
    }
  });

  it("destroy removes the instance, its snapshots, unit, password; a second destroy exits 3", async () => {
    expect(await sh("spark-pg destroy f1")).toBe("destroyed f1\n");
    for (const gone of [`${PG_ROOT}/f1`, `${PG_ROOT}/.snapshots/f1@origin`, `${PG_ROOT}/.snapshots/f1@before-mig`, "/etc/sparks/spark-pg/f1.password", "/etc/systemd/system/multi-user.target.wants/spark-pg@f1.service"]) {
      expect((await run(`test -e ${posixQuote(gone)}`)).code, gone).not.toBe(0);
    }
    expect(await sh("systemctl is-active spark-pg@f1 || true")).toBe("inactive\n");
    const again = await tool("destroy f1");
    expect(again.code).toBe(3);
    expect(again.stderr).toContain("no instance named 'f1'");
    expect((await sh("spark-pg list")).trim().split("\n").slice(1).map((l) => l.split(/\s+/)[0])).toEqual(["main"]);
  });
});
