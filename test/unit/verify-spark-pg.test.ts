import { describe, expect, it } from "vitest";
import { checkSparkPg, plannedSparkPgChecks } from "../../verify/checks/spark-pg";
import { parseListeners, parseStatus } from "../../verify/checks/service-instance";
import type { SparkPgExpectation } from "../../verify/manifest";
import type { CheckResult, Exec, ExecResult } from "../../verify/types";

// Outputs in the forms spark-pg (status --json), systemctl, ss (iproute2 6.1) and psql 15 print them.
const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: "" });
const err = (code: number, stderr: string, stdout = ""): ExecResult => ({ code, stdout, stderr });

const status = (name: string, port: number, source: string | null) =>
  ok(`${JSON.stringify({ name, state: "active", enabled: true, pid: 812, address: "127.0.0.1", port, role: name, database: "app", source }, null, 2)}\n`);

const recorded = {
  statusMain: status("main", 25500, null),
  statusFixtures: status("fixtures", 25501, "main"),
  statusMissing: err(3, "spark-pg: error: no instance named 'main' (see spark-pg list)\n"),
  active: ok("active\n"),
  inactive: err(3, "", "inactive\n"),
  enabled: ok("enabled\n"),
  disabled: err(1, "", "disabled\n"),
  ssLoopback: (port: number) => ok(`LISTEN 0      200        127.0.0.1:${port}      0.0.0.0:*          \n`),
  ssEverywhere: (port: number) =>
    ok(`LISTEN 0      200          0.0.0.0:${port}      0.0.0.0:*          \nLISTEN 0      200             [::]:${port}         [::]:*          \n`),
  ssNothing: ok(""),
  selectOne: ok("1\n"),
  wrongPassword: (user: string) =>
    err(2, `psql: error: connection to server at "127.0.0.1", port 25500 failed: FATAL:  password authentication failed for user "${user}"\n`),
  refusedConnection: err(2, 'psql: error: connection to server at "127.0.0.1", port 25500 failed: Connection refused\n'),
  noPasswordFile: err(1, "cat: /etc/sparks/spark-pg/main.password: No such file or directory\n"),
  noEncryption: (user: string) =>
    err(2, `psql: error: connection to server at "127.0.0.1", port 25500 failed: FATAL:  no pg_hba.conf entry for host "127.0.0.1", user "${user}", database "app", no encryption\n`),
};
const CA = "/etc/sparks/tls/ca.crt";
const TLS = { caFile: CA };

const PG: SparkPgExpectation = { version: 15, listen: "127.0.0.1", clients: [], instances: [{ name: "main" }, { name: "fixtures", forkOf: "main" }] };
const MAIN_ONLY: SparkPgExpectation = { ...PG, instances: [{ name: "main" }] };

type Answers = Partial<Record<"status" | "active" | "enabled" | "ss" | "own" | "wrong" | "unknown" | "plain", ExecResult>>;

/** A host answering recorded outputs; `overrides[name]` replaces what instance `name` answers. */
function fakeHost(overrides: Record<string, Answers> = {}): { exec: Exec; commands: string[] } {
  const commands: string[] = [];
  const normal: Record<string, Required<Answers>> = {
    main: { status: recorded.statusMain, active: recorded.active, enabled: recorded.enabled, ss: recorded.ssLoopback(25500), own: recorded.selectOne, wrong: recorded.wrongPassword("main"), unknown: recorded.wrongPassword("sparks_verify_no_such_role"), plain: recorded.noEncryption("main") },
    fixtures: { status: recorded.statusFixtures, active: recorded.active, enabled: recorded.enabled, ss: recorded.ssLoopback(25501), own: recorded.selectOne, wrong: recorded.wrongPassword("fixtures"), unknown: recorded.wrongPassword("sparks_verify_no_such_role"), plain: recorded.noEncryption("fixtures") },
  };
  const answer = (name: string, key: keyof Answers) => overrides[name]?.[key] ?? normal[name][key];
  const exec: Exec = async (command) => {
    commands.push(command);
    for (const name of Object.keys(normal)) {
      const port = JSON.parse(normal[name].status.stdout).port as number;
      if (command === `spark-pg status ${name} --json`) return answer(name, "status");
      if (command === `systemctl is-active spark-pg@${name}.service`) return answer(name, "active");
      if (command === `systemctl is-enabled spark-pg@${name}.service`) return answer(name, "enabled");
      if (command === `ss -ltnH 'sport = :${port}'`) return answer(name, "ss");
      if (command.includes(`port=${port} user=${name} `) && command.includes("sslmode=disable")) return answer(name, "plain");
      if (command.includes(`port=${port} user=sparks_verify_no_such_role`)) return answer(name, "unknown");
      if (command.includes(`port=${port} user=${name} `) && command.startsWith("PGPASSWORD=sparks-verify-wrong-password")) return answer(name, "wrong");
      if (command.includes(`port=${port} user=${name} `)) return answer(name, "own");
    }
    throw new Error(`unexpected command: ${command}`);
  };
  return { exec, commands };
}

const byName = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.name, r]));

describe("spark-pg checks", () => {
  it("passes every check of a healthy host, in planned order", async () => {
    const results = await checkSparkPg(fakeHost().exec, PG, TLS);
    expect(results.map((r) => r.name)).toEqual(plannedSparkPgChecks(PG).map((c) => c.name));
    expect(results.filter((r) => r.status !== "pass")).toEqual([]);
    expect(results.map((r) => r.name)).toContain("spark-pg fixtures: forked from main");
  });

  it("never puts the password on a command line: psql reads it from the password file on the host", async () => {
    const { exec, commands } = fakeHost();
    await checkSparkPg(exec, MAIN_ONLY, TLS);
    const own = commands.find((c) => c.includes("user=main ") && !c.startsWith("PGPASSWORD=sparks-verify") && !c.includes("sslmode=disable"));
    expect(own).toBe(
      "password=$(cat /etc/sparks/spark-pg/main.password) && PGPASSWORD=$password /usr/lib/postgresql/15/bin/psql -XtAc 'select 1' 'host=127.0.0.1 port=25500 user=main dbname=app connect_timeout=10 sslmode=verify-full sslrootcert=/etc/sparks/tls/ca.crt'",
    );
  });

  it.each([
    ["active", "a stopped instance", { active: recorded.inactive }, "spark-pg main: active", "inactive"],
    ["enabled", "an instance disabled at boot", { enabled: recorded.disabled }, "spark-pg main: enabled at boot", "disabled"],
    ["listening", "an instance listening on every address", { ss: recorded.ssEverywhere(25500) }, "spark-pg main: listening only on 127.0.0.1", "0.0.0.0:25500, :::25500"],
    ["listening", "an instance listening nowhere", { ss: recorded.ssNothing }, "spark-pg main: listening only on 127.0.0.1", "nothing listens on port 25500"],
    ["accepts", "a refused password of its own", { own: recorded.wrongPassword("main") }, "spark-pg main: accepts its credentials", "password authentication failed"],
    ["accepts", "a missing password file", { own: recorded.noPasswordFile }, "spark-pg main: accepts its credentials", "No such file"],
    ["wrong password", "a wrong password accepted", { wrong: recorded.selectOne }, "spark-pg main: refuses a wrong password", "accepted: logged in"],
    ["wrong password", "a server that refuses connections (not a refusal of the password)", { wrong: recorded.refusedConnection }, "spark-pg main: refuses a wrong password", "Connection refused"],
    ["unknown role", "an unknown role accepted", { unknown: recorded.selectOne }, "spark-pg main: refuses an unknown role", "accepted: logged in"],
    ["no TLS", "a login without TLS accepted", { plain: recorded.selectOne }, "spark-pg main: refuses a connection without TLS (sslmode=disable)", "accepted: logged in without TLS"],
    ["no TLS", "a refusal for another reason", { plain: recorded.refusedConnection }, "spark-pg main: refuses a connection without TLS (sslmode=disable)", "Connection refused"],
  ] as const)("%s: fails on %s", async (_check, _case, answers, name, found) => {
    const results = byName(await checkSparkPg(fakeHost({ main: answers }).exec, MAIN_ONLY, TLS));
    expect(results[name].status).toBe("fail");
    expect(results[name].found).toContain(found);
    const others = Object.values(results).filter((r) => r.name !== name);
    expect(others.every((r) => r.status === "pass")).toBe(true);
  });

  it("passes a refused plain login, and skips it (connecting as before) when the manifest names no host CA", async () => {
    const withCa = byName(await checkSparkPg(fakeHost().exec, MAIN_ONLY, TLS));
    expect(withCa["spark-pg main: refuses a connection without TLS (sslmode=disable)"]).toMatchObject({ status: "pass", found: "refused: no encryption" });
    const { exec, commands } = fakeHost();
    const without = byName(await checkSparkPg(exec, MAIN_ONLY));
    expect(without["spark-pg main: refuses a connection without TLS (sslmode=disable)"]).toMatchObject({ status: "skip" });
    expect(without["spark-pg main: accepts its credentials"].status).toBe("pass");
    expect(commands.some((c) => c.includes("sslmode"))).toBe(false);
  });

  it("fails a fork that spark-pg created empty or from another source", async () => {
    const results = byName(await checkSparkPg(fakeHost({ fixtures: { status: status("fixtures", 25501, null) } }).exec, PG));
    expect(results["spark-pg fixtures: forked from main"]).toMatchObject({ status: "fail", expected: "main", found: "created empty" });
  });

  it("checks a fork's limit on its own writes, as status --json reports it", async () => {
    const limited: SparkPgExpectation = { ...PG, instances: [{ name: "main" }, { name: "fixtures", forkOf: "main", forkLimitBytes: 268435456 }] };
    const name = "spark-pg fixtures: its own writes limited (btrfs exclusive limit)";
    expect(plannedSparkPgChecks(limited).map((c) => c.name)).toContain(name);
    const withSize = (limit: number | null) =>
      ok(JSON.stringify({ port: 25501, source: "main", size: { referenced_bytes: 1, exclusive_bytes: 1, shared_bytes: 0, exclusive_limit_bytes: limit } }));
    const held = byName(await checkSparkPg(fakeHost({ fixtures: { status: withSize(268435456) } }).exec, limited));
    expect(held[name]).toMatchObject({ status: "pass", found: "268435456 bytes" });
    const none = byName(await checkSparkPg(fakeHost({ fixtures: { status: withSize(null) } }).exec, limited));
    expect(none[name]).toMatchObject({ status: "fail", expected: "268435456 bytes", found: "no limit" });
    const quotasOff = byName(await checkSparkPg(fakeHost({ fixtures: { status: status("fixtures", 25501, "main") } }).exec, limited));
    expect(quotasOff[name]).toMatchObject({ status: "fail", found: "btrfs quotas off" });
  });

  it("fails every check of an instance spark-pg does not know, naming the instance", async () => {
    const results = await checkSparkPg(fakeHost({ main: { status: recorded.statusMissing, active: recorded.inactive, enabled: err(1, "", "not-found\n") } }).exec, MAIN_ONLY, TLS);
    expect(results.map((r) => r.status)).toEqual(results.map(() => "fail"));
    expect(results.find((r) => r.name === "spark-pg main: accepts its credentials")?.found).toContain("no instance named 'main'");
  });

  it("parses status and listeners as spark-pg and ss print them", () => {
    expect(parseStatus(recorded.statusFixtures.stdout)).toEqual({ port: 25501, source: "main" });
    expect(parseStatus("not json")).toBeUndefined();
    expect(parseListeners(recorded.ssEverywhere(5432).stdout, 5432)).toEqual(["0.0.0.0", "::"]);
    expect(parseListeners("LISTEN 0 200 [::1]:5432 [::]:*\n", 5432)).toEqual(["::1"]);
  });
});
