import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { e2eBlockerFor, listenWhereTheMachineReaches, RESULTS, ROOT, sandboxDeploy, sandboxHostForTests, sandboxNetwork, sandboxStackFile, summaryOf } from "./support";

/** redis-cli as spark-redis' own ACL user, the one allowed CONFIG (the instance's user is not), at the instance's address. */
const AS_TOOL_USER = (instance: string, command: string) =>
  `eval "$(spark-redis status ${instance} --json | python3 -c 'import json, sys; s = json.load(sys.stdin); print("address=%s port=%d" % (s["address"], s["port"]))')" && ` +
  `REDISCLI_AUTH=$(cat /etc/sparks/spark-redis/_tool.password) redis-cli --no-auth-warning --tls --cacert /etc/sparks/tls/ca.crt -h "$address" -p "$port" --user sparks-tool ${command}`;

const blocker = e2eBlockerFor("the Redis e2e tests");

/** This file's own sandbox host, apart from the other e2e files' and the tool test's. */
const STATE_DIR = path.join(ROOT, ".sandbox-e2e-redis");
const { apply, verify, onHost } = sandboxDeploy(STATE_DIR, path.join(RESULTS, "verify-manifest-sandbox-redis.json"));

/**
 * The sandbox stack with its btrfs volume and redis only, listening where the machine reaches it,
 * after `edit`; written once the sandbox is up, whose network decides the address. Returns its path.
 */
const redisStackFile = (name: string, edit: (host: any) => void = () => {}, converge?: string): string =>
  sandboxStackFile(name, ["redis"], ([host]) => (listenWhereTheMachineReaches(STATE_DIR)(host), edit(host)), converge);

const stack = () => redisStackFile("redis");
/** The same stack with a new converge value: every command re-runs in place. */
const converged = () => redisStackFile("redis-converge", () => {}, "1");

const instanceChecks = () => [
  "active",
  "enabled at boot",
  `listening only on ${sandboxNetwork(STATE_DIR).containerAddress}`,
  "refuses unauthenticated commands",
  "refuses a wrong password",
  "answers with its credentials",
  "persistence as declared",
  "maxmemory as declared",
];

describe.skipIf(blocker !== undefined)("Redis on the sandbox host", () => {
  sandboxHostForTests(STATE_DIR, "4G");

  it("apply installs redis and the tool, and creates main and its fork fixtures", async () => {
    const run = await apply(stack());
    console.log(`first apply: ${run.seconds.toFixed(1)} s`);
    expect(run.output).toMatch(/sandbox-redis-instance-fixtures: changed/);
    expect(run.output).toMatch(/^done: \d+ ran, [1-9]\d* changed/m);
    expect(run.code, run.output).toBe(0);
  });

  it("verify passes, redis checks included", async () => {
    const run = await verify("verify-redis-after-apply.xml");
    console.log(`verify: ${run.seconds.toFixed(1)} s`);
    expect(run.output).toContain("✓ redis: Debian's default instance redis-server.service stopped and disabled");
    for (const name of ["main", "fixtures"]) {
      for (const check of instanceChecks()) expect(run.output).toContain(`✓ redis ${name}: ${check}`);
    }
    expect(run.output).toContain("✓ redis fixtures: forked from main");
    expect(run.output).toMatch(/^\d+ passed, 0 failed/m);
    expect(run.code, run.output).toBe(0);
  });

  it("verify --from-here: each instance answers TLS for its listen address with the host CA, and not the plain protocol", async () => {
    const listen = sandboxNetwork(STATE_DIR).containerAddress;
    const out = path.join(RESULTS, "verify-redis-from-here.json");
    const run = await verify("verify-redis-from-here.xml", "--from-here", "--format", "json", "--out", out);
    expect(run.code, run.output).toBe(0);
    const checks = (JSON.parse(readFileSync(out, "utf8")) as { hosts: { checks: { name: string; status: string; found?: string }[] }[] }).hosts[0].checks;
    const check = (name: string) => checks.find((c) => c.name === name);
    for (const name of ["main", "fixtures"]) {
      // Without credentials the instance answers NOAUTH: it was reached, over TLS, and asks who we are.
      expect(check(`from here: redis ${name}: TLS with a certificate the host CA signed for ${listen}`)).toMatchObject({ status: "pass", found: expect.stringMatching(/^TLS verified; -NOAUTH/) });
      expect(check(`from here: redis ${name}: the plain protocol is refused`)).toMatchObject({ status: "pass" });
    }
  });

  it("verify --deep forks main, writes in the fork, leaves main unchanged and destroys the fork", async () => {
    const run = await verify("verify-redis-deep.xml", "--deep");
    console.log(`verify --deep: ${run.seconds.toFixed(1)} s`);
    for (const check of ["fork answers", "write in the fork", "source unchanged by the fork", "fork destroyed"]) {
      expect(run.output).toContain(`✓ redis main: deep: ${check}`);
    }
    expect(run.output).toMatch(/^\d+ passed, 0 failed/m);
    expect(run.code, run.output).toBe(0);
    const list = await onHost("spark-redis list --json");
    expect((JSON.parse(list.stdout) as { name: string }[]).map((r) => r.name)).toEqual(["fixtures", "main"]);
  });

  it("instances come from the declared pool; nothing listens on 6379", async () => {
    const list = await onHost("spark-redis list --json");
    const rows = JSON.parse(list.stdout) as { name: string; port: number; source: string | null; state: string }[];
    expect(rows.map((r) => [r.name, r.source, r.state])).toEqual([
      ["fixtures", "main", "active"],
      ["main", null, "active"],
    ]);
    for (const row of rows) expect(row.port >= 26300 && row.port <= 26319).toBe(true);
    expect((await onHost("ss -Hltn 'sport = :6379'")).stdout.trim()).toBe("");
  });

  it("a second apply runs nothing", async () => {
    const run = await apply(stack());
    console.log(`re-apply: ${run.seconds.toFixed(1)} s`);
    expect(run.output).toMatch(/^done: 0 ran, 0 changed/m);
    expect(run.code, run.output).toBe(0);
  });

  it("a changed maxmemory updates exactly the tool and the instances, which restart with it; verify checks the new value", async () => {
    const bigger = redisStackFile("redis-128m", (host) => (host.redis.maxmemory = "128M"));
    const run = await apply(bigger, "--json");
    expect(run.code, run.output).toBe(0);
    const summary = summaryOf(run);
    expect(summary.steps.update.sort()).toEqual(["sandbox-redis-instance-fixtures", "sandbox-redis-instance-main", "sandbox-redis-tool"]);
    expect(summary.counts).toMatchObject({ create: 0, replace: 0, delete: 0 });
    expect(summary.changed).toEqual(expect.arrayContaining(["sandbox-redis-instance-main", "sandbox-redis-instance-fixtures"]));
    const after = await verify("verify-redis-after-resize.xml");
    expect(after.output).toContain("✓ redis main: maxmemory as declared");
    expect(after.output).toMatch(/^\d+ passed, 0 failed/m);
    expect((await onHost(AS_TOOL_USER("main", "CONFIG GET maxmemory"))).stdout).toBe(`maxmemory\n${128 * 1024 * 1024}\n`);
    expect((await apply(stack())).code).toBe(0);
  });

  it("a stopped instance fails verify by name; a new converge value starts it again", async () => {
    expect((await onHost("spark-redis stop fixtures")).code).toBe(0);
    const broken = await verify("verify-redis-after-stop.xml");
    expect(broken.code).toBe(1);
    expect(broken.output).toContain("✗ redis fixtures: active");
    expect(broken.output).toContain("✓ redis main: active");
    expect((await apply(stack())).output).toMatch(/^done: 0 ran/m);
    const repair = await apply(converged());
    expect(repair.output).toMatch(/sandbox-redis-instance-fixtures: changed \(update/);
    expect(repair.code).toBe(0);
    expect((await verify("verify-redis-after-repair.xml")).code).toBe(0);
  });

  it("verify --wait checks again until an instance that comes up late is up, and says on which attempt it passed", async () => {
    expect((await onHost("spark-redis stop fixtures")).code).toBe(0);
    const waiting = verify("verify-redis-wait.xml", "--wait", "2m");
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    expect((await onHost("spark-redis start fixtures")).code).toBe(0);
    const run = await waiting;
    expect(run.output).toMatch(/^ {2}✓ redis fixtures: active \(passed on attempt [2-9]\d*\)$/m);
    expect(run.output).toContain("✓ redis main: active");
    expect(run.output).toMatch(/^\d+ passed, 0 failed/m);
    expect(run.code, run.output).toBe(0);
  }, 180_000);

  it("verify --wait gives up when the time is up: exit 1, the check's attempts counted, the markdown report names the finding", async () => {
    expect((await onHost("spark-redis stop fixtures")).code).toBe(0);
    try {
      const run = await verify("verify-redis-wait-timeout.xml", "--wait", "12s", "--format", "markdown");
      expect(run.code, run.output).toBe(1);
      // `stop` also disables: the unit's two states are two findings, the instance's other checks under "active".
      expect(run.output).toMatch(/^### ❌ verify sparks\/sandbox: 2 findings \(\d+ failed checks\)/m);
      expect(run.output).toMatch(/^\| sandbox \| redis fixtures: active \(failed all [2-9] attempts\) \| active \| inactive \| [1-9]\d* more checks \|$/m);
      expect(run.output).toMatch(/^\| sandbox \| redis fixtures: enabled at boot \(failed all [2-9] attempts\) \| enabled \| disabled \| {2}\|$/m);
    } finally {
      expect((await onHost("spark-redis start fixtures")).code).toBe(0);
    }
  }, 120_000);

  it("destroy with main protected refuses main, naming it, and removes fixtures only", async () => {
    const protectedStack = redisStackFile(
      "redis-protected",
      (host) => {
        for (const volume of host.btrfs.volumes) volume.protect = true;
        host.redis.instances.find((i: { name: string }) => i.name === "main").protect = true;
      },
      "1",
    );
    expect((await apply(protectedStack)).code).toBe(0);
    const run = await apply(protectedStack, "--destroy", "--json");
    expect(run.code, run.output).toBe(1);
    expect(run.output).toMatch(/^✗ sandbox-redis-instance-main: delete failed .*cannot be deleted because it is protected$/m);
    expect(summaryOf(run).ran).toEqual(["sandbox-redis-instance-fixtures"]);
    expect((await onHost("systemctl is-active spark-redis@main.service")).stdout.trim()).toBe("active");
    expect((await onHost("spark-redis connect main -- PING")).stdout.trim()).toBe("PONG");
    expect((await onHost("spark-redis status fixtures")).code).toBe(3);
    expect((await onHost("test -e /srv/sparks/redis/fixtures")).code).not.toBe(0);
    expect((await onHost("test -e /etc/sparks/spark-redis/fixtures.password")).code).not.toBe(0);
    // main stands on the tool, its units and the packages: the engine keeps them.
    expect((await onHost("ls -d /usr/local/sbin/spark-redis /etc/sparks/spark-redis.json /etc/systemd/system/spark-redis@.service")).code).toBe(0);
    expect((await onHost("dpkg-query -W -f='${db:Status-Status}' redis-server")).stdout).toBe("installed");
  });

  it("destroy without protection removes main too", async () => {
    expect((await apply(converged())).code).toBe(0);
    const run = await apply(converged(), "--destroy");
    expect(run.output).toMatch(/sandbox-redis-instance-main: changed \(delete/);
    const holders = run.code === 0 ? "" : (await onHost("ls -l /proc/[0-9]*/cwd /proc/[0-9]*/fd /proc/[0-9]*/root 2>/dev/null | grep /srv/sparks; ps -eo pid,args; journalctl -n 30 --no-pager")).stdout;
    expect(run.code, run.output + holders).toBe(0);
    expect((await onHost("systemctl is-active spark-redis@main.service")).stdout.trim()).not.toBe("active");
    expect((await onHost("test -e /etc/systemd/system/multi-user.target.wants/spark-redis@main.service")).code).not.toBe(0);
    expect((await onHost("test -e /etc/sparks/spark-redis/main.password")).code).not.toBe(0);
    // No instance left: nothing of spark-redis stays, the packages this deploy installed included.
    expect(run.output).toMatch(/sandbox-redis-tool: changed \(delete/);
    expect(run.output).toMatch(/changed: purged [^\n]*redis-server/);
    const ours = [
      "/usr/local/sbin/spark-redis",
      "/usr/local/lib/sparks",
      "/etc/sparks",
      "/etc/systemd/system/spark-redis@.service",
      "/etc/systemd/system/redis-server.service.d",
      "/run/sparks/locks/spark-redis.lock",
      "/run/sparks/locks/tls.lock",
    ];
    for (const file of ours) expect((await onHost(`test -e ${file}`)).code, file).not.toBe(0);
    // With no tool left, the host CA's key goes too, and the group that read the server key.
    expect((await onHost("getent group sparks-tls")).code).not.toBe(0);
    expect((await onHost("find /var/lib/sparks/owners -path '*spark-redis*' -type f")).stdout.trim()).toBe("");
    for (const p of ["redis-server", "redis-tools"]) {
      expect((await onHost(`dpkg-query -W -f='\${db:Status-Status}' ${p} 2>/dev/null || true`)).stdout, p).not.toBe("installed");
    }
    expect((await onHost("dpkg-query -W -f='${db:Status-Status}' python3")).stdout).toBe("installed");
  });

  it("a second destroy has nothing left in the state to delete", async () => {
    const run = await apply(converged(), "--destroy");
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/^done: 0 ran/m);
  });
});
