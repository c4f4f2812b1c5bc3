import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import {
  e2eBlockerFor,
  listenWhereTheMachineReaches,
  RESULTS,
  ROOT,
  runCli,
  sandboxDeploy,
  sandboxHostForTests,
  sandboxNetwork,
  sandboxStackFile,
  summaryOf,
  vethNetwork,
  withMachineAddress,
} from "./support";

const blocker = e2eBlockerFor("the SparkPg e2e tests");

/** This file's own sandbox host, apart from the foundation tests' and the tool test's. */
const STATE_DIR = path.join(ROOT, ".sandbox-e2e-pg");
const MANIFEST = path.join(RESULTS, "verify-manifest-sandbox-pg.json");
const { apply: applyStack, verify, onHost } = sandboxDeploy(STATE_DIR, MANIFEST);
const runVerifyCli = (args: string[]) => runCli("verify/cli.ts", args, STATE_DIR);
/**
 * The sandbox stack with its btrfs volume and spark-pg only (this file tests spark-pg), listening
 * where the machine reaches it; written once the sandbox is up, whose network decides the address.
 */
const pgStackFile = (name: string, edit: (host: any) => void = () => {}, converge?: string): string =>
  sandboxStackFile(name, ["sparkPg"], ([host]) => (listenWhereTheMachineReaches(STATE_DIR)(host), edit(host)), converge);
const stack = () => pgStackFile("pg");
/** The same stack with a new converge value: every command re-runs in place. */
const converged = () => pgStackFile("pg-converge", undefined, "1");
const apply = (...args: string[]) => applyStack(stack(), ...args);

/** The converged stack with instance main and its volume protected: destroy must leave main running. */
const protectedStackFile = (): string =>
  pgStackFile(
    "pg-protected",
    (host) => {
      for (const volume of host.btrfs.volumes) volume.protect = true;
      host.sparkPg.instances.find((i: { name: string }) => i.name === "main").protect = true;
    },
    "1",
  );

describe.skipIf(blocker !== undefined)("SparkPg on the sandbox host", () => {
  sandboxHostForTests(STATE_DIR, "8G");

  it("apply installs postgres and the tool, and creates main and its fork fixtures", async () => {
    // A host deployed with the previous layout: the tool's entry was the file /usr/local/lib/sparks/spark-pg.
    const legacy = await onHost("mkdir -p /usr/local/lib/sparks/sparks_host && touch /usr/local/lib/sparks/sparks_host/pg.py && echo old > /usr/local/lib/sparks/spark-pg");
    expect(legacy.code, legacy.stderr).toBe(0);
    const run = await apply();
    expect(run.output).toContain("removed the previous layout's /usr/local/lib/sparks/spark-pg and /usr/local/lib/sparks/sparks_host");
    console.log(`first apply: ${run.seconds.toFixed(1)} s`);
    expect(run.output).toMatch(/sandbox-spark-pg-instance-fixtures: changed/);
    expect(run.output).toMatch(/^done: \d+ ran, [1-9]\d* changed/m);
    expect(run.code).toBe(0);
  });

  it("verify passes, spark-pg checks included", async () => {
    const run = await verify("verify-pg-after-apply.xml");
    console.log(`verify: ${run.seconds.toFixed(1)} s`);
    for (const name of ["main", "fixtures"]) {
      for (const check of ["active", "enabled at boot", `listening only on ${sandboxNetwork(STATE_DIR).containerAddress}`, "accepts its credentials", "refuses a wrong password", "refuses an unknown role"]) {
        expect(run.output).toContain(`✓ spark-pg ${name}: ${check}`);
      }
    }
    expect(run.output).toContain("✓ spark-pg fixtures: forked from main");
    expect(run.output).toMatch(/^\d+ passed, 0 failed/m);
    expect(run.code).toBe(0);
  });

  it("verify --deep forks main, writes in the fork, leaves main unchanged and destroys the fork", async () => {
    const run = await verify("verify-pg-deep.xml", "--deep");
    console.log(`verify --deep: ${run.seconds.toFixed(1)} s`);
    for (const check of ["fork answers", "write in the fork", "source unchanged by the fork", "fork destroyed"]) {
      expect(run.output).toContain(`✓ spark-pg main: deep: ${check}`);
    }
    expect(run.output).not.toContain("spark-pg fixtures: deep:");
    expect(run.output).toMatch(/^\d+ passed, 0 failed/m);
    expect(run.code).toBe(0);
    const list = await onHost("spark-pg list --json");
    expect(list.code).toBe(0);
    const names = (JSON.parse(list.stdout) as { name: string }[]).map((r) => r.name);
    expect(names.filter((name) => name.startsWith("verify-deep-"))).toEqual([]);
    expect(names).toEqual(["fixtures", "main"]);
  });

  it("spark-pg list on the host shows main and fixtures, from the declared pool", async () => {
    const list = await onHost("spark-pg list --json");
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.stdout) as { name: string; port: number; source: string | null; state: string }[];
    expect(rows.map((r) => [r.name, r.source, r.state])).toEqual([
      ["fixtures", "main", "active"],
      ["main", null, "active"],
    ]);
    for (const row of rows) expect(row.port >= 25500 && row.port <= 25519).toBe(true);
    expect((await onHost("ls /etc/postgresql")).stdout.trim()).toBe("");
  });

  it("a second apply runs nothing", async () => {
    const run = await apply();
    console.log(`re-apply: ${run.seconds.toFixed(1)} s`);
    expect(run.output).toMatch(/^done: 0 ran, 0 changed/m);
    expect(run.code).toBe(0);
  });

  it("verify --from-here: TLS for the listen address, no plain protocol, and pg_hba.conf lets in exactly the declared sources", async () => {
    const n = sandboxNetwork(STATE_DIR);
    const report = (file: string) => JSON.parse(readFileSync(file, "utf8")) as { hosts: { checks: { name: string; status: string; expected?: string; found?: string }[] }[] };
    const check = (file: string, name: string) => report(file).hosts[0].checks.find((c) => c.name === name);
    const here = path.join(RESULTS, "verify-pg-from-here.json");
    const run = await verify("verify-pg-from-here.xml", "--from-here", "--format", "json", "--out", here);
    expect(run.code, run.output).toBe(0);
    for (const name of ["main", "fixtures"]) {
      expect(check(here, `from here: spark-pg ${name}: TLS with a certificate the host CA signed for ${n.containerAddress}`)).toMatchObject({ status: "pass", found: "TLS verified; auth requested" });
      expect(check(here, `from here: spark-pg ${name}: the plain protocol is refused`)).toMatchObject({ status: "pass", found: expect.stringContaining("no encryption") });
    }
    const source = "from here: spark-pg main: this client's address is let in only if declared";
    // The machine's end of the veth is the declared client.
    expect(check(here, source)).toMatchObject({ status: "pass", found: `${n.machineAddress} admitted: the server asked for a password` });

    // From an address the config does not declare (a second one on the machine's end): refused by
    // pg_hba.conf before any password is asked.
    const undeclared = n.machineAddress.replace(/\.1$/, ".3");
    await withMachineAddress(n, undeclared, async () => {
      const other = path.join(RESULTS, "verify-pg-from-other.json");
      expect((await verify("verify-pg-from-other.xml", "--from-here", "--source", undeclared, "--format", "json", "--out", other)).code).toBe(0);
      const refused = `${undeclared} refused: hba refused: no pg_hba.conf entry for host "${undeclared}"`;
      expect(check(other, source)).toMatchObject({ status: "pass", found: expect.stringMatching(new RegExp(`^${refused.replace(/\./g, "\\.")}`)) });

      // A manifest that declares that network while the host does not let it in: the check fails.
      const declared = JSON.parse(readFileSync(MANIFEST, "utf8"));
      declared.hosts[0].sparkPg.clients = [vethNetwork(n)];
      const declaredFile = path.join(RESULTS, "verify-manifest-pg-declares-veth.json");
      writeFileSync(declaredFile, JSON.stringify(declared));
      const wrong = path.join(RESULTS, "verify-pg-declared.json");
      const failed = await runVerifyCli(["--manifest", declaredFile, "--from-here", "--source", undeclared, "--format", "json", "--out", wrong]);
      expect(failed.code).toBe(1);
      expect(check(wrong, source)).toMatchObject({ status: "fail", expected: `${undeclared} admitted (declared)`, found: expect.stringContaining(`${undeclared} refused`) });
    });
  });

  it("a stopped instance fails verify by name; a new converge value starts it again", async () => {
    expect((await onHost("spark-pg stop fixtures")).code).toBe(0);
    const broken = await verify("verify-pg-after-stop.xml");
    expect(broken.code).toBe(1);
    expect(broken.output).toContain("✗ spark-pg fixtures: active");
    expect(broken.output).toContain("✗ spark-pg fixtures: enabled at boot");
    expect(broken.output).toContain("✓ spark-pg main: active");
    expect((await apply()).output).toMatch(/^done: 0 ran/m);
    const repair = await applyStack(converged());
    expect(repair.output).toMatch(/sandbox-spark-pg-instance-fixtures: changed \(update/);
    expect(repair.code).toBe(0);
    const again = await verify("verify-pg-after-repair.xml");
    expect(again.output).toMatch(/^\d+ passed, 0 failed/m);
    expect(again.code).toBe(0);
  });

  it("destroy with main protected refuses main, naming it, removes fixtures and keeps what main runs on", async () => {
    const configFile = protectedStackFile();
    expect((await applyStack(configFile)).code).toBe(0);
    const run = await applyStack(configFile, "--destroy", "--json");
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/^✗ sandbox-spark-pg-instance-main: delete failed .*cannot be deleted because it is protected$/m);
    expect(summaryOf(run).ran).toEqual(["sandbox-spark-pg-instance-fixtures"]);
    expect((await onHost("systemctl is-active spark-pg@main.service")).stdout.trim()).toBe("active");
    expect((await onHost("test -d /srv/sparks/pg/main/data")).code).toBe(0);
    expect((await onHost("spark-pg status fixtures")).code).toBe(3);
    expect((await onHost("test -e /srv/sparks/pg/fixtures")).code).not.toBe(0);
    expect((await onHost("systemctl is-enabled spark-pg@fixtures.service")).stdout.trim()).not.toBe("enabled");
    expect((await onHost("test -e /etc/sparks/spark-pg/fixtures.password")).code).not.toBe(0);
    const list = await onHost("spark-pg list --json");
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { name: string }[]).map((r) => r.name)).toEqual(["main"]);
    const kept = ["/usr/local/sbin/spark-pg", "/etc/sparks/spark-pg.json", "/etc/sparks/spark-pg/main.password", "/etc/systemd/system/spark-pg@.service", "/etc/systemd/system/spark-pg-expire@.service"];
    expect((await onHost(`ls -d ${kept.join(" ")}`)).code).toBe(0);
    expect((await onHost("dpkg-query -W -f='${db:Status-Status}' postgresql-15")).stdout).toBe("installed");
    expect((await onHost("spark-pg connect main -- -tAc 'select 1'")).stdout.trim()).toBe("1");
    // What is left to destroy is protected or stands under it.
    expect((await applyStack(configFile, "--destroy", "--exclude-protected")).output).toMatch(/^done: 0 ran/m);
  });

  it("destroy keeps the tool, Postgres and the volume while an instance made at a shell remains, and says which", async () => {
    // Unprotected again, and fixtures back: the engine creates it anew.
    const back = await applyStack(converged(), "--json");
    expect(summaryOf(back).steps.create).toEqual(["sandbox-spark-pg-instance-fixtures"]);
    expect((await onHost("spark-pg new dev1")).code).toBe(0);
    const run = await applyStack(converged(), "--destroy");
    expect(run.code).toBe(0);
    expect(run.output).toMatch(/spark-pg kept with its units, config and passwords: \/srv\/sparks\/pg still holds dev1 \(/);
    expect(run.output).toContain("postgresql-15 and the packages installed with it are kept: the spark-pg tool is still installed");
    // Its subvolume holds dev1, so the pg subvolume, the mount and the filesystem stay too.
    expect(run.output).toContain("subvolume /srv/sparks/pg holds subvolumes the deploy did not make (dev1): left in place");
    expect(run.output).toContain("/srv/sparks keeps subvolumes still claimed (pg): left mounted");
    expect(run.output).toMatch(/btrfs \S+ on \/dev\/vdb keeps subvolumes still claimed \(pg\): left in place/);
    expect((await onHost("spark-pg connect dev1 -- -tAc 'select 1'")).stdout.trim()).toBe("1");
    expect((await onHost("spark-pg status main")).code).toBe(3);
    expect((await onHost("spark-pg destroy dev1")).code).toBe(0);
    // A later deploy takes the claims over, and its destroy finishes the job (next test).
    expect((await applyStack(converged())).code).toBe(0);
  });

  it("destroy without protection removes main too", async () => {
    const run = await applyStack(converged(), "--destroy");
    expect(run.output).toMatch(/sandbox-spark-pg-instance-main: changed \(delete/);
    expect(run.code).toBe(0);
    expect((await onHost("systemctl is-active spark-pg@main.service")).stdout.trim()).not.toBe("active");
    expect((await onHost("test -e /etc/systemd/system/multi-user.target.wants/spark-pg@main.service")).code).not.toBe(0);
    expect((await onHost("test -e /etc/sparks/spark-pg/main.password")).code).not.toBe(0);
    // No instance left: nothing of spark-pg stays, the Postgres packages this deploy installed included.
    expect(run.output).toMatch(/sandbox-spark-pg-tool: changed \(delete/);
    expect(run.output).toMatch(/changed: purged [^\n]*postgresql-15/);
    const ours = [
      "/usr/local/sbin/spark-pg",
      "/usr/local/lib/sparks",
      "/etc/sparks",
      "/etc/systemd/system/spark-pg@.service",
      "/etc/systemd/system/spark-pg-expire@.service",
      "/run/sparks/locks/spark-pg.lock",
      "/run/sparks/locks/tls.lock",
    ];
    for (const file of ours) expect((await onHost(`test -e ${file}`)).code, file).not.toBe(0);
    // With no tool left, the host CA's key goes too, and the group that read the server key.
    expect((await onHost("getent group sparks-tls")).code).not.toBe(0);
    expect((await onHost("ls /etc/systemd/system/multi-user.target.wants/ | grep spark-pg || true")).stdout.trim()).toBe("");
    expect((await onHost("find /var/lib/sparks/owners -path '*spark-pg*' -type f")).stdout.trim()).toBe("");
    for (const dir of ["/etc/postgresql", "/etc/postgresql-common", "/var/lib/postgresql"]) expect((await onHost(`test -e ${dir}`)).code, dir).not.toBe(0);
    for (const p of ["postgresql-15", "postgresql-common", "postgresql-client-15", "libpq5"]) {
      expect((await onHost(`dpkg-query -W -f='\${db:Status-Status}' ${p} 2>/dev/null || true`)).stdout, p).not.toBe("installed");
    }
    // python3 is never taken back, nor a Host base package.
    for (const p of ["python3", "btrfs-progs"]) {
      expect((await onHost(`dpkg-query -W -f='\${db:Status-Status}' ${p}`)).stdout, p).toBe("installed");
    }
  });

  it("a second destroy has nothing left in the state to delete", async () => {
    const run = await applyStack(converged(), "--destroy");
    expect(run.code).toBe(0);
    expect(run.output).toMatch(/^done: 0 ran/m);
  });
});
