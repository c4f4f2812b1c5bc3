import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { statePaths } from "../../sandbox";
import { copyProgram, renameRedisType } from "../fixtures/program-copy";
import { type CliRun, e2eBlockerFor, RESULTS, ROOT, sandboxDeploy, sandboxHostForTests, sandboxStackFile, summaryOf } from "./support";

const blocker = e2eBlockerFor("the engine e2e tests");

/** This file's own sandbox host. */
const STATE_DIR = path.join(ROOT, ".sandbox-e2e-engine");
const MANIFEST = path.join(RESULTS, "verify-manifest-sandbox-engine.json");
const { apply, verify, onHost, state: STATE } = sandboxDeploy(STATE_DIR, MANIFEST);

/** The sandbox stack with spark-pg and redis, the host named `hostName`, `edit` applied. */
const stack = (name: string, options: { hostName?: string; converge?: string; protect?: boolean } = {}) =>
  sandboxStackFile(
    `engine-${name}`,
    ["sparkPg", "redis"],
    ([host]) => {
      if (options.hostName) host.name = options.hostName;
      if (options.protect) {
        for (const volume of host.btrfs.volumes) volume.protect = true;
        host.sparkPg.instances[0].protect = true;
        host.redis.instances[0].protect = true;
      }
    },
    options.converge,
  );

const STACK = stack("base");
const RENAMED = stack("renamed", { hostName: "spark-box" });

/** Runs apply/cli.ts of a program copy (a refactor), against this file's sandbox and state. */
function applyCopy(root: string, configFile: string, ...args: string[]): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(
      path.join(ROOT, "node_modules/.bin/tsx"),
      ["apply/cli.ts", "apply", "--stack", "sandbox", "--config-file", configFile, "--state", STATE, "--manifest-out", MANIFEST, ...args],
      { cwd: root, encoding: "utf8", maxBuffer: 64 << 20, env: { ...process.env, SPARKS_SANDBOX_DIR: STATE_DIR } },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, output: stdout + stderr, stdout, seconds: (Date.now() - started) / 1000 }),
    );
  });
}

/** Kills every SSH session of the sandbox host's sshd (not the listener): a network cut, as the deploy sees it. */
function cutSshSessions(): number {
  const root = statePaths(STATE_DIR).root;
  let killed = 0;
  for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmdline.startsWith("sshd: root@") && readlinkSync(`/proc/${pid}/root`) === root) {
        process.kill(Number(pid), "SIGKILL");
        killed++;
      }
    } catch {
      // Gone in the meantime.
    }
  }
  return killed;
}

const recordedPackages = async (claim: string) => (await onHost(`sed -n 's/^packages=//p' /var/lib/sparks/owners/${claim}`)).stdout.trim().split(" ");
const pgRow = async () => (await onHost("spark-pg connect main -- -tAc 'select v from engine_check'")).stdout.trim();
const redisKey = async () => (await onHost("spark-redis connect main -- GET engine-check")).stdout.trim();

describe.skipIf(blocker !== undefined)("the sandbox engine takes the steps pulumi up takes", () => {
  sandboxHostForTests(STATE_DIR, "8G");
  const copies: string[] = [];
  afterAll(() => copies.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it("a first deploy in parallel on a fresh host: no apt collision, each service records only its own packages", async () => {
    const run = await apply(STACK, "--parallel", "8", "--json");
    expect(run.code, run.output).toBe(0);
    expect(run.output).not.toContain("Could not get lock");
    expect(summaryOf(run).ran).toEqual(expect.arrayContaining(["sandbox-spark-pg-packages", "sandbox-redis-packages"]));
    const pg = await recordedPackages("spark-pg-packages/postgresql-15");
    const redis = await recordedPackages("spark-redis-packages/redis");
    expect(pg).toContain("postgresql-15");
    expect(redis).toContain("redis-server");
    expect(pg.filter((p) => p.startsWith("redis") || p.startsWith("liblzf") || p.startsWith("libjemalloc"))).toEqual([]);
    expect(redis.filter((p) => p.startsWith("postgresql") || p.startsWith("libpq"))).toEqual([]);
    expect((await verify("engine-first.xml")).code).toBe(0);
  });

  it("a second apply runs no command, in about the program's evaluation time", async () => {
    const run = await apply(STACK, "--json");
    const summary = summaryOf(run);
    expect(summary.ran).toEqual([]);
    expect(summary.counts).toMatchObject({ create: 0, update: 0, replace: 0, delete: 0 });
    console.log(`no-change apply: ${run.seconds.toFixed(2)} s (evaluation, state, no SSH)`);
    expect(run.code).toBe(0);
    const ok = await onHost(`spark-pg connect main -- -c "create table engine_check (v text); insert into engine_check values ('kept')" && spark-redis connect main -- SET engine-check kept`);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it("a renamed host (every URN new): the new resources take the claims over, the old deletes leave the data", async () => {
    const run = await apply(RENAMED, "--json");
    expect(run.code, run.output).toBe(0);
    const summary = summaryOf(run);
    expect(summary.steps.create).toEqual(expect.arrayContaining(["spark-box-spark-pg-instance-main", "spark-box-redis-instance-main", "spark-box-data-subvolume-pg"]));
    expect(summary.steps.delete).toEqual(expect.arrayContaining(["sandbox-spark-pg-instance-main", "sandbox-redis-instance-main", "sandbox-data-format"]));
    expect(run.output).toMatch(/instance main is claimed by urn:\S+::spark-box-spark-pg-instance-main: left in place/);
    expect(await pgRow()).toBe("kept");
    expect(await redisKey()).toBe("kept");
    expect((await verify("engine-renamed.xml")).code).toBe(0);
  });

  it("a type token renamed with an alias: the same resources, updated in place; data kept", async () => {
    const copy = mkdtempSync(path.join(tmpdir(), "sparks-engine-alias-"));
    copies.push(copy);
    copyProgram(copy, "components/redis.ts", renameRedisType(true));
    const run = await applyCopy(copy, RENAMED, "--json");
    expect(run.code, run.output).toBe(0);
    const summary = summaryOf(run);
    expect(summary.counts).toMatchObject({ create: 0, replace: 0, delete: 0 });
    // Their URN is in their header (the claims' owner): each re-runs in place and re-claims.
    expect(summary.steps.update.sort()).toEqual(["spark-box-redis-instance-fixtures", "spark-box-redis-instance-main", "spark-box-redis-packages", "spark-box-redis-tool"]);
    expect(await redisKey()).toBe("kept");
  });

  it("the same change back without an alias is a create and a delete of each, and the claims still keep the data", async () => {
    const run = await apply(RENAMED, "--json");
    expect(run.code, run.output).toBe(0);
    const summary = summaryOf(run);
    expect(summary.steps.create).toEqual(expect.arrayContaining(["spark-box-redis-instance-main", "spark-box-redis-tool"]));
    expect(summary.steps.delete).toEqual(expect.arrayContaining(["spark-box-redis-instance-main", "spark-box-redis-tool"]));
    expect(await redisKey()).toBe("kept");
    expect((await verify("engine-unaliased.xml")).code).toBe(0);
  });

  it("--replace of protected data is refused and runs nothing", async () => {
    const guarded = stack("protected", { hostName: "spark-box", protect: true });
    expect((await apply(guarded)).code).toBe(0);
    for (const name of ["spark-box-data-format", "spark-box-data-mount", "spark-box-data-subvolume-pg", "spark-box-spark-pg-instance-main", "spark-box-redis-instance-main"]) {
      const run = await apply(guarded, "--replace", name, "--json");
      expect(run.code, name).toBe(1);
      expect(run.output).toMatch(new RegExp(`✗ ${name}: replace failed .*marked for protection`));
      expect(summaryOf(run).ran, name).toEqual([]);
    }
    expect(await pgRow()).toBe("kept");
  });

  it("--replace on an unprotected stack deletes first: a fork is made anew, and a filesystem holding claimed subvolumes is never wiped", async () => {
    expect((await apply(RENAMED)).code).toBe(0);
    const before = (await onHost("spark-pg status fixtures --json")).stdout;
    const fork = await apply(RENAMED, "--replace", "spark-box-spark-pg-instance-fixtures");
    expect(fork.code, fork.output).toBe(0);
    expect(fork.output).toContain("✓ spark-box-spark-pg-instance-fixtures: changed (delete then create");
    expect((await onHost("spark-pg status fixtures --json")).stdout).not.toBe(before);
    // The format's delete leaves a filesystem whose subvolumes are still claimed; the create adopts it again.
    const format = await apply(RENAMED, "--replace", "spark-box-data-format");
    expect(format.code, format.output).toBe(0);
    expect(format.output).toMatch(/btrfs \S+ on \/dev\/vdb keeps subvolumes still claimed \(.*pg.*\): left in place/);
    expect(await pgRow()).toBe("kept");
    expect((await apply(RENAMED, "--json")).code).toBe(0);
  });

  it("a host key set as a secret at a path runs the deploy and appears in no output, state or stack output", async () => {
    const keyFile = statePaths(STATE_DIR).key;
    const keyLine = readFileSync(keyFile, "utf8").split("\n")[2];
    expect(keyLine.length).toBeGreaterThan(40);
    const configFile = sandboxStackFile(
      "engine-secret-key",
      ["sparkPg", "redis"],
      ([host]) => {
        host.name = "spark-box";
        host.ssh.privateKey = { secure: "v1:AAAAencrypted-by-the-pulumi-cli" };
      },
      "secret-key",
    );
    const run = await apply(configFile, "--secret", `hosts[0].ssh.privateKey=${keyFile}`, "--json");
    expect(run.code, run.output).toBe(0);
    expect(summaryOf(run).ran?.length ?? 0).toBeGreaterThan(10);
    for (const [what, text] of [["output", run.output], ["state", readFileSync(STATE, "utf8")], ["verify manifest", readFileSync(MANIFEST, "utf8")]]) {
      expect(text.includes(keyLine), `the key is in the ${what}`).toBe(false);
    }
    // The state holds it encrypted, as Pulumi's checkpoint does.
    expect(readFileSync(STATE, "utf8")).toMatch(/"ciphertext": "v1:/);
  });

  it("an SSH cut in the middle of an apply leaves the state consistent, and the next apply converges (10 cut points)", async () => {
    for (let round = 1; round <= 10; round++) {
      const configFile = stack(`cut-${round}`, { hostName: "spark-box", converge: `cut-${round}` });
      const pending = apply(configFile, "--json");
      await new Promise((resolve) => setTimeout(resolve, 400 * round));
      const killed = cutSshSessions();
      const cut = await pending;
      const state = JSON.parse(readFileSync(STATE, "utf8")) as { pendingOperations: unknown[]; resources: { urn: string }[] };
      expect(state.pendingOperations, `round ${round}`).toEqual([]);
      expect(new Set(state.resources.map((r) => r.urn)).size, `round ${round}`).toBe(state.resources.length);
      const again = await apply(configFile, "--json");
      expect(again.code, `round ${round} (${killed} sessions cut, first run exit ${cut.code}):\n${again.output}`).toBe(0);
      expect(summaryOf(await apply(configFile, "--json")).ran, `round ${round}`).toEqual([]);
      const check = await verify(`engine-cut-${round}.xml`);
      expect(check.code, `round ${round}:\n${check.output}`).toBe(0);
    }
    expect(await pgRow()).toBe("kept");
  }, 1_200_000);

  it("destroy runs the delete stored in the state, not the program's current script", async () => {
    const copy = mkdtempSync(path.join(tmpdir(), "sparks-engine-delete-"));
    copies.push(copy);
    copyProgram(copy, "components/scripts/host-tool/instance.delete.sh", (script) => script.replace(/\nresult=0\n/, '\necho "delete script v2 ran"\nresult=0\n'));
    const configFile = stack("cut-10", { hostName: "spark-box", converge: "cut-10" });
    const plan = await applyCopy(copy, configFile, "--json");
    // The program's commands now differ (their delete), which pulumi up would apply as updates: not done here.
    expect(plan.code).toBe(0);
    expect(summaryOf(plan).steps.update).toEqual(expect.arrayContaining(["spark-box-spark-pg-instance-main"]));
    expect(plan.output).not.toContain("delete script v2 ran");
    // State now holds the v2 deletes: restore v1 by applying the original, then destroy from the copy.
    expect((await apply(configFile)).code).toBe(0);
    const destroyed = await applyCopy(copy, configFile, "--destroy");
    expect(destroyed.code, destroyed.output).toBe(0);
    expect(destroyed.output).toContain("✓ spark-box-spark-pg-instance-main: changed (delete");
    expect(destroyed.output).not.toContain("delete script v2 ran");
    expect((await onHost("blkid -p /dev/vdb")).code).toBe(2);
    expect((await onHost("test -e /usr/local/sbin/spark-pg")).code).not.toBe(0);
  });
});
