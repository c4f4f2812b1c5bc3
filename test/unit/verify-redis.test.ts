import { describe, expect, it } from "vitest";
import { checkRedis, parseConfigGet, plannedRedisChecks } from "../../verify/checks/redis";
import { checkRedisDeep, plannedRedisDeepChecks } from "../../verify/checks/redis-deep";
import type { RedisExpectation } from "../../verify/manifest";
import type { CheckResult, Exec, ExecResult } from "../../verify/types";

// Outputs in the forms spark-redis (status --json), systemctl, ss (iproute2 6.1) and redis-cli 7.0 (no terminal) print them.
const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: "" });
const err = (code: number, stderr: string, stdout = ""): ExecResult => ({ code, stdout, stderr });
const status = (name: string, port: number, source: string | null) =>
  ok(`${JSON.stringify({ name, state: "active", enabled: true, pid: 812, address: "127.0.0.1", port, role: name, database: 0, source }, null, 2)}\n`);

const REDIS: RedisExpectation = {
  listen: "127.0.0.1",
  clients: [],
  appendfsync: "everysec",
  save: "300 100",
  maxmemory: 67108864,
  maxmemoryPolicy: "noeviction",
  instances: [{ name: "main" }, { name: "fixtures", forkOf: "main" }],
};
const CONFIG = "appendonly\nyes\nappendfsync\neverysec\nsave\n300 100\nmaxmemory\n67108864\nmaxmemory-policy\nnoeviction\n";
const PORTS: Record<string, number> = { main: 26300, fixtures: 26301 };

type Key = "status" | "active" | "enabled" | "ss" | "none" | "wrong" | "whoami" | "admin" | "config" | "default" | "plain";
const TLS = { caFile: "/etc/sparks/tls/ca.crt" };

/** A host answering recorded outputs; `overrides[name][key]` replaces one answer. */
function fakeHost(overrides: Record<string, Partial<Record<Key, ExecResult>>> = {}): { exec: Exec; commands: string[] } {
  const commands: string[] = [];
  const answer = (name: string, key: Key, normal: ExecResult) => overrides[name]?.[key] ?? normal;
  const exec: Exec = async (command) => {
    commands.push(command);
    if (command === "systemctl is-active redis-server.service") return answer("*", "default", err(3, "", "inactive\n"));
    if (command === "systemctl is-enabled redis-server.service") return err(1, "", "disabled\n");
    for (const [name, port] of Object.entries(PORTS)) {
      if (command === `spark-redis status ${name} --json`) return answer(name, "status", status(name, port, name === "fixtures" ? "main" : null));
      if (command === `systemctl is-active spark-redis@${name}.service`) return answer(name, "active", ok("active\n"));
      if (command === `systemctl is-enabled spark-redis@${name}.service`) return answer(name, "enabled", ok("enabled\n"));
      if (command === `ss -ltnH 'sport = :${port}'`) return answer(name, "ss", ok(`LISTEN 0      511        127.0.0.1:${port}      0.0.0.0:*          \n`));
      if (!command.includes(`-p ${port} `)) continue;
      // redis-cli 7 without --tls on a TLS port: the server drops the connection at the first bytes.
      if (!command.includes("--tls --cacert /etc/sparks/tls/ca.crt ")) return answer(name, "plain", err(1, "", "Error: Connection reset by peer\n"));
      if (!command.includes("--user")) return answer(name, "none", ok("NOAUTH Authentication required.\n"));
      if (command.startsWith("REDISCLI_AUTH=sparks-verify-wrong-password")) {
        return answer(name, "wrong", err(0, "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\n", "NOAUTH Authentication required.\n"));
      }
      const own = command.includes(`cat /etc/sparks/spark-redis/${name}.password`) && command.includes(`--user ${name} `);
      const tool = command.includes("cat /etc/sparks/spark-redis/_tool.password") && command.includes("--user sparks-tool ");
      if (own && command.endsWith("ACL WHOAMI")) return answer(name, "whoami", ok(`${name}\n`));
      if (own && command.endsWith("CONFIG GET maxmemory")) {
        return answer(name, "admin", ok(`NOPERM User ${name} has no permissions to run the 'config|get' command\n`));
      }
      if (tool && command.endsWith("CONFIG GET appendonly appendfsync save maxmemory maxmemory-policy")) return answer(name, "config", ok(CONFIG));
    }
    throw new Error(`unexpected command: ${command}`);
  };
  return { exec, commands };
}

const byName = (results: CheckResult[], name: string) => {
  const found = results.find((r) => r.name === name);
  if (!found) throw new Error(`no check named ${name}: ${results.map((r) => r.name).join(", ")}`);
  return found;
};

describe("verify: redis", () => {
  it("passes a healthy host, in the planned order", async () => {
    const results = await checkRedis(fakeHost().exec, REDIS, TLS);
    expect(results.map((r) => r.name)).toEqual(plannedRedisChecks(REDIS).map((c) => c.name));
    expect(results.filter((r) => r.status !== "pass")).toEqual([]);
  });

  it("speaks TLS verifying with the host CA, and fails an instance that answers the plain protocol", async () => {
    const { exec, commands } = fakeHost({ fixtures: { plain: ok("PONG\n") } });
    const results = await checkRedis(exec, REDIS, TLS);
    expect(byName(results, "redis main: refuses the plain protocol on its port")).toMatchObject({ status: "pass", found: "Error: Connection reset by peer" });
    expect(byName(results, "redis fixtures: refuses the plain protocol on its port")).toMatchObject({ status: "fail", found: "PONG: answered without TLS" });
    expect(commands.filter((c) => c.includes("ACL WHOAMI")).every((c) => c.includes("redis-cli --no-auth-warning --tls --cacert /etc/sparks/tls/ca.crt "))).toBe(true);
  });

  it("never puts a password on a command line", async () => {
    const { exec, commands } = fakeHost();
    await checkRedis(exec, REDIS, TLS);
    for (const command of commands) expect(command).not.toMatch(/--pass|-a /);
    expect(commands.some((c) => c.includes("REDISCLI_AUTH=$password"))).toBe(true);
  });

  it("fails an instance that answers without AUTH, or with a wrong password", async () => {
    const open = fakeHost({ main: { none: ok("PONG\n"), wrong: ok("PONG\n") } });
    const results = await checkRedis(open.exec, REDIS, TLS);
    expect(byName(results, "redis main: refuses unauthenticated commands")).toMatchObject({ status: "fail", expected: "NOAUTH", found: "PONG: answered" });
    expect(byName(results, "redis main: refuses a wrong password")).toMatchObject({ status: "fail", expected: "WRONGPASS" });
    expect(byName(results, "redis fixtures: refuses unauthenticated commands").status).toBe("pass");
  });

  it("fails an instance whose own user may run admin commands, and one that answers as someone else", async () => {
    const loose = fakeHost({ main: { admin: ok("maxmemory\n67108864\n") }, fixtures: { whoami: ok("default\n") } });
    const results = await checkRedis(loose.exec, REDIS, TLS);
    expect(byName(results, "redis main: its user is refused admin commands (CONFIG)")).toMatchObject({ status: "fail", expected: "NOPERM", found: "maxmemory\n67108864" });
    expect(byName(results, "redis fixtures: answers with its credentials")).toMatchObject({ status: "fail", found: "default" });
    expect(byName(results, "redis fixtures: its user is refused admin commands (CONFIG)").status).toBe("pass");
  });

  it("reads the settings as the tool's user, and says so when that user gets no answer", async () => {
    const { exec, commands } = fakeHost({ main: { config: ok("WRONGPASS invalid username-password pair or user is disabled.\n") } });
    const results = await checkRedis(exec, REDIS, TLS);
    expect(commands.filter((c) => c.includes("CONFIG GET appendonly")).every((c) => c.includes("--user sparks-tool "))).toBe(true);
    expect(byName(results, "redis main: persistence as declared")).toMatchObject({ status: "fail", found: expect.stringContaining("no answer to the tool's user: WRONGPASS") });
  });

  it("fails an instance bound everywhere", async () => {
    const results = await checkRedis(fakeHost({ main: { ss: ok("LISTEN 0 511 0.0.0.0:26300 0.0.0.0:*\nLISTEN 0 511 [::]:26300 [::]:*\n") } }).exec, REDIS, TLS);
    expect(byName(results, "redis main: listening only on 127.0.0.1")).toMatchObject({ status: "fail", found: "0.0.0.0:26300, :::26300" });
  });

  it("fails persistence and memory that differ from the declaration", async () => {
    const drifted = CONFIG.replace("appendonly\nyes", "appendonly\nno").replace("maxmemory\n67108864", "maxmemory\n0");
    const results = await checkRedis(fakeHost({ fixtures: { config: ok(drifted) } }).exec, REDIS, TLS);
    expect(byName(results, "redis fixtures: persistence as declared")).toMatchObject({
      status: "fail",
      expected: "appendonly=yes appendfsync=everysec save=300 100",
      found: "appendonly=no appendfsync=everysec save=300 100",
    });
    expect(byName(results, "redis fixtures: maxmemory as declared")).toMatchObject({ status: "fail", found: "maxmemory=0 maxmemory-policy=noeviction" });
    expect(byName(results, "redis main: persistence as declared").status).toBe("pass");
  });

  it("fails a stopped instance and a running default instance by name", async () => {
    const results = await checkRedis(fakeHost({ "*": { default: ok("active\n") }, fixtures: { active: err(3, "", "inactive\n"), enabled: err(1, "", "disabled\n") } }).exec, REDIS, TLS);
    expect(byName(results, "redis: Debian's default instance redis-server.service stopped and disabled").status).toBe("fail");
    expect(byName(results, "redis fixtures: active")).toMatchObject({ status: "fail", found: "inactive" });
    expect(byName(results, "redis fixtures: enabled at boot")).toMatchObject({ status: "fail", found: "disabled" });
  });

  it("fails every later check of an instance the tool does not know", async () => {
    const results = await checkRedis(fakeHost({ main: { status: err(3, "spark-redis: error: no instance named 'main' (see spark-redis list)\n") } }).exec, REDIS, TLS);
    const main = results.filter((r) => r.name.startsWith("redis main:"));
    expect(main.map((r) => r.name)).toEqual(plannedRedisChecks({ ...REDIS, instances: [REDIS.instances[0]] }).slice(1).map((c) => c.name));
    expect(main.slice(2).every((r) => r.status === "fail" && r.found === "spark-redis: error: no instance named 'main' (see spark-redis list)")).toBe(true);
  });

  it("reads CONFIG GET pairs", () => {
    expect(parseConfigGet("save\n\nappendonly\nyes\n")).toEqual(new Map([["save", ""], ["appendonly", "yes"]]));
  });
});

describe("verify --deep: redis", () => {
  function deepHost(overrides: Partial<Record<"fork" | "set" | "exists" | "destroy" | "statusAfter", ExecResult>> = {}) {
    const commands: string[] = [];
    let destroyed = false;
    const exec: Exec = async (command) => {
      commands.push(command);
      if (command === "spark-redis fork main verify-deep-abc123 --ttl 10m") return overrides.fork ?? ok("forked\n");
      if (command === "spark-redis status verify-deep-abc123 --json") return status("verify-deep-abc123", 26302, "main");
      if (command === "spark-redis status main --json") return status("main", 26300, null);
      if (command === "spark-redis destroy verify-deep-abc123") {
        destroyed = true;
        return overrides.destroy ?? ok("destroyed verify-deep-abc123\n");
      }
      if (command === "spark-redis status verify-deep-abc123") return overrides.statusAfter ?? (destroyed ? err(3, "no instance\n") : ok(""));
      if (command.includes("-p 26302") && command.endsWith(" PING")) return ok("PONG\n");
      if (command.includes("-p 26302") && command.includes("EVAL")) return overrides.set ?? ok("abc123\n");
      if (command.includes("-p 26300") && command.endsWith("EXISTS sparks:verify-deep:abc123")) return overrides.exists ?? ok("0\n");
      throw new Error(`unexpected command: ${command}`);
    };
    return { exec, commands };
  }

  it("passes a round trip and destroys the fork", async () => {
    const results = await checkRedisDeep(deepHost().exec, REDIS, { suffix: "abc123" });
    expect(results.map((r) => r.name)).toEqual(plannedRedisDeepChecks(REDIS).map((c) => c.name));
    expect(results.filter((r) => r.status !== "pass")).toEqual([]);
  });

  it("fails when the fork's write shows up in the source, and still destroys the fork", async () => {
    const { exec, commands } = deepHost({ exists: ok("1\n") });
    const results = await checkRedisDeep(exec, REDIS, { suffix: "abc123" });
    expect(byName(results, "redis main: deep: source unchanged by the fork")).toMatchObject({ status: "fail", found: "EXISTS 1" });
    expect(commands).toContain("spark-redis destroy verify-deep-abc123");
  });

  it("destroys the fork even when the fork itself failed, and reports a fork that stays", async () => {
    const results = await checkRedisDeep(deepHost({ fork: err(1, "spark-redis: error: boom\n"), statusAfter: ok("") }).exec, REDIS, { suffix: "abc123" });
    expect(byName(results, "redis main: deep: fork answers")).toMatchObject({ status: "fail", found: "spark-redis: error: boom" });
    expect(byName(results, "redis main: deep: write in the fork").status).toBe("skip");
    expect(byName(results, "redis main: deep: fork destroyed").status).toBe("fail");
  });
});
