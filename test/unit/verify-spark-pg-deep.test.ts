import { describe, expect, it } from "vitest";
import { checkSparkPgDeep, deepSource, plannedSparkPgDeepChecks } from "../../verify/checks/spark-pg-deep";
import type { HostExpectation, SparkPgExpectation } from "../../verify/manifest";
import { plannedChecks, runHostChecks } from "../../verify/run";
import type { CheckResult, Exec, ExecResult } from "../../verify/types";

// Outputs in the forms spark-pg (fork, status --json, destroy) and psql 15 print them.
const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: "" });
const err = (code: number, stderr: string, stdout = ""): ExecResult => ({ code, stdout, stderr });

const SUFFIX = "a1b2c3";
const FORK = `verify-deep-${SUFFIX}`;
const TABLE = `verify_deep_${SUFFIX}`;

const status = (name: string, port: number, source: string | null) =>
  ok(`${JSON.stringify({ name, state: "active", enabled: true, pid: 812, address: "127.0.0.1", port, role: name, database: "app", source }, null, 2)}\n`);

const recorded = {
  fork: ok(`forked main -> ${FORK} on 127.0.0.1:25502 (expires 2026-11-24T02:40:00Z)\n`),
  forkFailed: err(5, "spark-pg: error: fork: no free port in 25500-25519\n"),
  statusFork: status(FORK, 25502, "main"),
  statusMain: status("main", 25500, null),
  selectOne: ok("1\n"),
  // psql 15 prints the result of every statement of a multi-statement -c, command tags included.
  wrote: ok("CREATE TABLE\nINSERT 0 1\n1\n"),
  writeRefused: err(1, `ERROR:  permission denied for schema public\nLINE 1: create table ${TABLE} (id int); ...\n`),
  absent: ok("absent\n"),
  present: ok(`${TABLE}\n`),
  destroyed: ok(`destroyed ${FORK}\n`),
  destroyFailed: err(1, `spark-pg: error: destroy: cannot delete subvolume /srv/sparks/pg/${FORK}: Device or resource busy\n`),
  notFound: err(3, `spark-pg: error: no instance named '${FORK}' (see spark-pg list)\n`),
  stillThere: ok(`${FORK}: active, port 25502\n`),
};

const PG: SparkPgExpectation = { version: 15, listen: "127.0.0.1", clients: [], instances: [{ name: "main" }, { name: "fixtures", forkOf: "main" }] };

type Step = "fork" | "statusFork" | "statusMain" | "selectOne" | "write" | "seen" | "destroy" | "statusAfter";

/** A host answering recorded outputs to the deep checks' commands; `overrides` replaces an answer. */
function fakeHost(overrides: Partial<Record<Step, ExecResult>> = {}): { exec: Exec; commands: string[]; steps: Step[] } {
  const commands: string[] = [];
  const steps: Step[] = [];
  const normal: Record<Step, ExecResult> = {
    fork: recorded.fork,
    statusFork: recorded.statusFork,
    statusMain: recorded.statusMain,
    selectOne: recorded.selectOne,
    write: recorded.wrote,
    seen: recorded.absent,
    destroy: recorded.destroyed,
    statusAfter: recorded.notFound,
  };
  const step = (name: Step) => {
    steps.push(name);
    return overrides[name] ?? normal[name];
  };
  const exec: Exec = async (command) => {
    commands.push(command);
    if (command === `spark-pg fork main ${FORK} --ttl 10m`) return step("fork");
    if (command === `spark-pg status ${FORK} --json`) return step("statusFork");
    if (command === "spark-pg status main --json") return step("statusMain");
    if (command === `spark-pg destroy ${FORK}`) return step("destroy");
    if (command === `spark-pg status ${FORK}`) return step("statusAfter");
    if (command.includes(`port=25502 user=${FORK} `) && command.includes("'select 1'")) return step("selectOne");
    if (command.includes(`port=25502 user=${FORK} `) && command.includes(`create table ${TABLE}`)) return step("write");
    if (command.includes("port=25500 user=main ") && command.includes("to_regclass(") && command.includes(`public.${TABLE}`)) return step("seen");
    throw new Error(`unexpected command: ${command}`);
  };
  return { exec, commands, steps };
}

const byName = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.name, r]));
const run = (host: ReturnType<typeof fakeHost>, pg = PG) => checkSparkPgDeep(host.exec, pg, { suffix: SUFFIX });

const N = {
  answers: "spark-pg main: deep: fork answers",
  write: "spark-pg main: deep: write in the fork",
  unchanged: "spark-pg main: deep: source unchanged by the fork",
  destroyed: "spark-pg main: deep: fork destroyed",
};

describe("spark-pg deep checks", () => {
  it("passes a fork round trip on the first non-fork instance, in planned order, and destroys the fork last", async () => {
    const host = fakeHost();
    const results = await run(host);
    expect(results.map((r) => r.name)).toEqual([N.answers, N.write, N.unchanged, N.destroyed]);
    expect(results.map((r) => r.name)).toEqual(plannedSparkPgDeepChecks(PG).map((c) => c.name));
    expect(results.filter((r) => r.status !== "pass")).toEqual([]);
    expect(host.steps).toEqual(["fork", "statusFork", "selectOne", "write", "statusMain", "seen", "destroy", "statusAfter"]);
  });

  it("connects to the fork and to the source each with its own password file, never on a command line", async () => {
    const host = fakeHost();
    await run(host);
    const write = host.commands.find((c) => c.includes("create table"));
    expect(write).toBe(
      `password=$(cat /etc/sparks/spark-pg/${FORK}.password) && PGPASSWORD=$password /usr/lib/postgresql/15/bin/psql -XtA -v ON_ERROR_STOP=1 -c 'create table ${TABLE} (id int); insert into ${TABLE} values (1); select count(*) from ${TABLE}' 'host=127.0.0.1 port=25502 user=${FORK} dbname=app connect_timeout=10'`,
    );
    const seen = host.commands.find((c) => c.includes("to_regclass"));
    expect(seen).toMatch(/^password=\$\(cat \/etc\/sparks\/spark-pg\/main\.password\) && PGPASSWORD=\$password /);
  });

  it("runs spark-pg and reads the password files through sudo -n for a non-root login", async () => {
    const commands: string[] = [];
    const inner = fakeHost();
    const exec: Exec = (command) => {
      commands.push(command);
      return inner.exec(command.replace(/sudo -n /g, ""));
    };
    const results = await checkSparkPgDeep(exec, PG, { suffix: SUFFIX, sudo: true });
    expect(results.every((r) => r.status === "pass")).toBe(true);
    expect(commands).toContain(`sudo -n spark-pg fork main ${FORK} --ttl 10m`);
    expect(commands).toContain(`sudo -n spark-pg destroy ${FORK}`);
    expect(commands.find((c) => c.includes("create table"))).toContain(`$(sudo -n cat /etc/sparks/spark-pg/${FORK}.password)`);
  });

  it("fails a write refused in the fork, skips the source check, and still destroys the fork", async () => {
    const host = fakeHost({ write: recorded.writeRefused });
    const results = byName(await run(host));
    expect(results[N.answers].status).toBe("pass");
    expect(results[N.write]).toMatchObject({ status: "fail", found: "ERROR:  permission denied for schema public" });
    expect(results[N.unchanged]).toMatchObject({ status: "skip", detail: "no write in the fork" });
    expect(results[N.destroyed].status).toBe("pass");
    expect(host.steps.slice(-2)).toEqual(["destroy", "statusAfter"]);
    expect(host.steps).not.toContain("seen");
  });

  it("fails when the source sees the table written in the fork", async () => {
    const results = byName(await run(fakeHost({ seen: recorded.present })));
    expect(results[N.unchanged]).toMatchObject({ status: "fail", expected: "table absent in main", found: `table ${TABLE} in main` });
    expect([N.answers, N.write, N.destroyed].map((n) => results[n].status)).toEqual(["pass", "pass", "pass"]);
  });

  it.each([
    ["the fork fails", { fork: recorded.forkFailed }, "no free port"],
    ["the fork does not answer", { selectOne: err(2, 'psql: error: connection to server at "127.0.0.1", port 25502 failed: Connection refused\n') }, "Connection refused"],
    ["the fork's status is unreadable", { statusFork: ok("not json\n") }, "unreadable spark-pg status"],
  ] as const)("attempts the destroy after a failure: %s", async (_case, overrides, found) => {
    const host = fakeHost(overrides);
    const results = byName(await run(host));
    expect(results[N.answers]).toMatchObject({ status: "fail" });
    expect(results[N.answers].found).toContain(found);
    expect([results[N.write].status, results[N.unchanged].status]).toEqual(["skip", "skip"]);
    expect(results[N.destroyed].status).toBe("pass");
    expect(host.steps.slice(-2)).toEqual(["destroy", "statusAfter"]);
  });

  it("attempts the destroy even when a step throws", async () => {
    const host = fakeHost();
    const exec: Exec = async (command) => {
      if (command.includes("create table")) throw new Error("channel closed");
      return host.exec(command);
    };
    await expect(checkSparkPgDeep(exec, PG, { suffix: SUFFIX })).rejects.toThrow("channel closed");
    expect(host.steps.slice(-2)).toEqual(["destroy", "statusAfter"]);
  });

  it("fails 'fork destroyed' when the fork is still there after destroy", async () => {
    const results = byName(await run(fakeHost({ destroy: recorded.destroyFailed, statusAfter: recorded.stillThere })));
    expect(results[N.destroyed]).toMatchObject({ status: "fail", expected: "spark-pg status exits 3", found: `spark-pg status ${FORK} exits 0` });
    expect(results[N.destroyed].detail).toContain("Device or resource busy");
  });

  it("names the scratch fork verify-deep-<6 hex>, valid per spark-pg's name rule", async () => {
    const commands: string[] = [];
    await checkSparkPgDeep(async (command) => {
      commands.push(command);
      return err(1, "spark-pg: error: no\n");
    }, PG);
    const name = /^spark-pg fork main (\S+) --ttl 10m$/.exec(commands[0])?.[1];
    expect(name).toMatch(/^verify-deep-[0-9a-f]{6}$/);
    expect(name).toMatch(/^[a-z][a-z0-9-]{0,31}$/);
    expect(commands.at(-2)).toBe(`spark-pg destroy ${name}`);
  });

  it("forks the first declared instance that is not a fork, and nothing when all are forks", async () => {
    expect(deepSource({ ...PG, instances: [{ name: "fixtures", forkOf: "main" }, { name: "main" }, { name: "other" }] })?.name).toBe("main");
    const allForks: SparkPgExpectation = { ...PG, instances: [{ name: "fixtures", forkOf: "main" }] };
    expect(plannedSparkPgDeepChecks(allForks)).toEqual([]);
    expect(await checkSparkPgDeep(async () => ok(""), allForks)).toEqual([]);
  });
});

describe("runHostChecks without and with deep", () => {
  const host: HostExpectation = { name: "h", ssh: { address: "127.0.0.1", port: 22, user: "root", hostKey: "k" }, packages: [], btrfsVolumes: [], sparkPg: PG };

  it("plans the deep checks only with deep", () => {
    const names = (deep: boolean) => plannedChecks(host, { deep }).map((c) => c.name);
    expect(names(false).filter((n) => n.includes(": deep: "))).toEqual([]);
    expect(names(true).filter((n) => n.includes(": deep: "))).toEqual([N.answers, N.write, N.unchanged, N.destroyed]);
  });

  it("runs no spark-pg fork without deep", async () => {
    const commands: string[] = [];
    await runHostChecks(async (command) => {
      commands.push(command);
      return err(1, "no\n");
    }, host);
    expect(commands.filter((c) => c.includes("spark-pg fork") || c.includes("spark-pg destroy"))).toEqual([]);
  });
});
