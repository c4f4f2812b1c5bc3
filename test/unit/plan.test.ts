import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "../..");
const FIXTURE_SANDBOX = path.join(ROOT, "test/fixtures/sandbox-state");

interface PlanRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `npm run plan` as a reviewer runs it: a fresh process, the real program, the stack's own file.
 * npm starts it in the project root and says in INIT_CWD where the reviewer typed the command.
 */
function runPlan(args: string[], typedIn = ROOT): Promise<PlanRun> {
  return new Promise((resolve) => {
    const child = execFile(
      path.join(ROOT, "node_modules/.bin/tsx"),
      ["apply/cli.ts", "plan", ...args],
      { cwd: ROOT, encoding: "utf8", env: { ...process.env, SPARKS_SANDBOX_DIR: FIXTURE_SANDBOX, INIT_CWD: typedIn } },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

const STATES = path.join(ROOT, "test-results", "plan-states");
/** A state file no run has written: the plan of a first deploy. */
const NO_STATE = path.join(STATES, "none.json");
const stateOf = (stack: string) => path.join(STATES, `${stack}.json`);
const PROD_8G = path.join(STATES, "Pulumi.prod-8G.yaml");

const PLANS = {
  sandbox: ["--stack", "sandbox", "--full", "--state", NO_STATE],
  dev: ["--stack", "dev", "--full", "--state", NO_STATE],
  prod: ["--stack", "prod", "--full", "--state", NO_STATE],
  devDestroy: ["--stack", "dev", "--destroy", "--state", stateOf("dev")],
  prodDestroy: ["--stack", "prod", "--destroy", "--state", stateOf("prod")],
  prodDestroyExcludingProtected: ["--stack", "prod", "--destroy", "--exclude-protected", "--state", stateOf("prod")],
  prodUnchanged: ["--stack", "prod", "--state", stateOf("prod")],
  prodMaxmemory: ["--stack", "prod", "--config-file", PROD_8G, "--state", stateOf("prod")],
};
const plans = {} as Record<keyof typeof PLANS, PlanRun>;

/** Writes the state a first `pulumi up` of the stack would leave (test/fixtures/record-state.ts). */
function recordState(stack: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(path.join(ROOT, "node_modules/.bin/tsx"), ["test/fixtures/record-state.ts", stack, path.join(ROOT, `Pulumi.${stack}.yaml`), stateOf(stack)], { cwd: ROOT }, (error) =>
      error ? reject(error) : resolve(),
    ),
  );
}

beforeAll(async () => {
  rmSync(STATES, { recursive: true, force: true });
  mkdirSync(STATES, { recursive: true });
  writeFileSync(PROD_8G, readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8").replace(/maxmemory: 4G/g, "maxmemory: 8G"));
  await Promise.all([recordState("dev"), recordState("prod")]);
  const runs = await Promise.all(Object.values(PLANS).map((args) => runPlan(args)));
  Object.keys(PLANS).forEach((name, i) => (plans[name as keyof typeof PLANS] = runs[i]));
}, 180_000);

const lines = (text: string, pattern: RegExp) => [...text.matchAll(pattern)].map((m) => m[1]);

describe("plan: the steps pulumi up would take", () => {
  it.each(["sandbox", "dev", "prod"] as const)("renders the %s stack's first deploy with each command's parameters (snapshot)", async (stack) => {
    const result = plans[stack];
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    await expect(result.stdout).toMatchFileSnapshot(`__snapshots__/plan-${stack}.txt`);
  });

  it("runs the same program for every stack: only config values differ", () => {
    const kinds = (stack: "sandbox" | "dev" | "prod") =>
      lines(plans[stack].stdout, /^\+ create \S+?-(wait-for-ssh|host-files|base-packages|format|mount|quota|subvolume|spark-pg-packages|spark-pg-tool|spark-pg-instance)\b/gm)
        .filter((kind, i, all) => all.indexOf(kind) === i);
    expect(kinds("dev")).toEqual(kinds("sandbox"));
    expect(kinds("prod")).toEqual(kinds("sandbox"));
  });

  it("says an unchanged stack runs nothing", () => {
    expect(plans.prodUnchanged.code).toBe(0);
    expect(plans.prodUnchanged.stdout).toMatch(/^Resources: \d+ to leave unchanged\n$/);
  });

  it("shows a one-value change in a few lines: the value, by name, and the instances it restarts", () => {
    const plan = plans.prodMaxmemory.stdout;
    console.log(`plan of redis.maxmemory 4G -> 8G on prod (${plan.split("\n").length - 1} lines):\n${plan}`);
    expect(plan.split("\n").length - 1).toBeLessThan(20);
    for (const host of ["prod-1", "prod-2"]) {
      expect(plan).toContain(`~ update ${host}-redis-tool\n    CONFIG_JSON.maxmemory: 4294967296 -> 8589934592\n`);
      for (const instance of ["main", "fixtures"]) {
        expect(plan).toContain(`~ update ${host}-redis-instance-${instance}\n    SETTINGS: maxmemory=4G -> maxmemory=8G\n    applies as: SETTINGS: restarts the instance\n`);
      }
    }
    expect(plan).toMatch(/^Resources: 6 to update, \d+ to leave unchanged$/m);
  });

  it("keeps prod's command strings small: each a header and a call of its shipped script", () => {
    const state = JSON.parse(readFileSync(stateOf("prod"), "utf8")) as { resources: { type: string; inputs: Record<string, unknown> }[] };
    const commands = state.resources.filter((r) => r.type === "command:remote:Command");
    const bytes = commands.reduce((sum, r) => sum + String(r.inputs.create ?? "").length + String(r.inputs.delete ?? "").length, 0);
    console.log(`prod: ${commands.length} commands, ${bytes} bytes of command strings`);
    expect(bytes).toBeLessThan(60_000);
  });

  it("refuses to destroy protected data, and destroys the rest", () => {
    const prod = plans.prodDestroy.stdout;
    expect(prod).toMatch(/^- delete prod-1-data-format .*\n    error: resource urn:\S+::prod-1-data-format cannot be deleted because it is protected$/m);
    expect(prod).toMatch(/^- delete prod-2-data-subvolume-pg .*\n    error: .* protected$/m);
    expect(prod).toMatch(/^- delete prod-1-spark-pg-instance-main .*\n    error: .* protected$/m);
    expect(prod).toMatch(/^- delete prod-1-spark-pg-instance-fixtures$/m);
    const dev = plans.devDestroy.stdout;
    expect(dev).toMatch(/^- delete dev-1-data-format$/m);
    expect(dev).toMatch(/^- delete dev-1-data-subvolume-pg$/m);
    expect(dev).not.toContain("error:");
  });

  it("with --exclude-protected leaves protected data and what it stands on out of the destroy", () => {
    const deleted = lines(plans.prodDestroyExcludingProtected.stdout, /^- delete (\S+)/gm);
    expect(deleted).toContain("prod-1-spark-pg-instance-fixtures");
    expect(deleted).toContain("prod-2-redis-instance-fixtures");
    for (const kept of ["prod-1-data-format", "prod-1-data-mount", "prod-1-spark-pg-instance-main", "prod-1-spark-pg-tool", "prod-1-wait-for-ssh"]) expect(deleted).not.toContain(kept);
    expect(plans.prodDestroyExcludingProtected.stdout).not.toContain("error:");
  });

  it("orders spark-pg after the volume it lives on, and a fork after its source", () => {
    const created = lines(plans.sandbox.stdout, /^\+ create (\S+)/gm);
    const at = (name: string) => created.indexOf(name);
    expect(at("sandbox-data-subvolume-pg")).toBeLessThan(at("sandbox-spark-pg-tool"));
    expect(at("sandbox-spark-pg-packages")).toBeLessThan(at("sandbox-spark-pg-tool"));
    expect(at("sandbox-spark-pg-tool")).toBeLessThan(at("sandbox-spark-pg-instance-main"));
    expect(at("sandbox-spark-pg-instance-main")).toBeLessThan(at("sandbox-spark-pg-instance-fixtures"));
    const destroyed = lines(plans.prodDestroy.stdout, /^- delete (\S+)/gm);
    expect(destroyed.indexOf("prod-1-spark-pg-instance-main")).toBeLessThan(destroyed.indexOf("prod-1-data-subvolume-pg"));
  });

  it("confirms the firewall rules after loading them, over a command of its own (a new SSH connection)", () => {
    const created = lines(plans.dev.stdout, /^\+ create (\S+)/gm);
    const at = (name: string) => created.indexOf(name);
    expect(at("dev-1-base-packages")).toBeLessThan(at("dev-1-firewall-rules"));
    expect(at("dev-1-firewall-rules")).toBeLessThan(at("dev-1-firewall-confirm"));
    expect(at("dev-1-firewall-rules")).toBeGreaterThan(-1);
    expect(lines(plans.sandbox.stdout, /^\+ create (\S+)/gm).filter((name) => name.includes("firewall"))).toEqual([]);
  });

  it("deletes in the reverse order of creation", () => {
    const created = lines(plans.dev.stdout, /^\+ create (\S+)/gm);
    const deleted = lines(plans.devDestroy.stdout, /^- delete (\S+)/gm);
    expect(deleted).toEqual([...created].reverse());
  });

  it("redacts secrets: the deploy key never appears", () => {
    expect(plans.sandbox.stdout).toContain("+ create sandbox-wait-for-ssh");
    expect(plans.sandbox.stdout).not.toContain("not a real key");
  });

  it("refuses an invalid config with every error named by path, and connects to nothing", { timeout: 60_000 }, async () => {
    // The config file is named relative to where the command was typed, not to the project root.
    const server = createServer();
    let connections = 0;
    server.on("connection", (socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const configFile = path.join(ROOT, "test-results", "invalid-stack.yaml");
    mkdirSync(path.dirname(configFile), { recursive: true });
    writeFileSync(
      configFile,
      [
        "config:",
        "  sparks:hosts:",
        "    - name: bad",
        `      ssh: { address: 127.0.0.1, port: ${port} }`,
        "      btrfs:",
        "        volumes:",
        "          - { name: data, device: /dev/vdb, label: x, mountpoint: /srv/x, subvolumes: [{ name: 'a b' }] }",
      ].join("\n"),
    );
    const result = await runPlan(["--stack", "invalid", "--config-file", path.basename(configFile)], path.dirname(configFile));
    await new Promise((resolve) => setTimeout(resolve, 200));
    server.close();
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("hosts[0].ssh.hostKey: is required");
    expect(result.stderr).toContain("hosts[0].btrfs.volumes[0].subvolumes[0].name: must match");
    expect(connections).toBe(0);
  });
});
