import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
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

const PLANS = {
  sandbox: ["--stack", "sandbox", "--full"],
  dev: ["--stack", "dev", "--full"],
  prod: ["--stack", "prod", "--full"],
  devDestroy: ["--stack", "dev", "--destroy"],
  prodDestroy: ["--stack", "prod", "--destroy"],
};
const plans = {} as Record<keyof typeof PLANS, PlanRun>;

beforeAll(async () => {
  const runs = await Promise.all(Object.values(PLANS).map((args) => runPlan(args)));
  Object.keys(PLANS).forEach((name, i) => (plans[name as keyof typeof PLANS] = runs[i]));
}, 120_000);

describe("plan: what each stack would run", () => {
  it.each(["sandbox", "dev", "prod"] as const)("renders the %s stack's commands and scripts (snapshot)", async (stack) => {
    const result = plans[stack];
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    await expect(result.stdout).toMatchFileSnapshot(`__snapshots__/plan-${stack}.txt`);
  });

  it("runs the same program for every stack: only config values differ", () => {
    const kinds = (stack: "sandbox" | "dev" | "prod") =>
      [...plans[stack].stdout.matchAll(/^create \S+?-(wait-for-ssh|base-packages|format|mount|quota|subvolume|spark-pg-packages|spark-pg-tool|spark-pg-instance)\b/gm)]
        .map((m) => m[1])
        .filter((kind, i, all) => all.indexOf(kind) === i);
    expect(kinds("dev")).toEqual(kinds("sandbox"));
    expect(kinds("prod")).toEqual(kinds("sandbox"));
  });

  it("keeps protected data on destroy and deletes unprotected data", () => {
    const prod = plans.prodDestroy.stdout;
    expect(prod).toMatch(/^retain prod-1-data-format on /m);
    expect(prod).toMatch(/^retain prod-2-data-subvolume-pg on /m);
    expect(prod).not.toMatch(/^delete prod-\d-data-/m);
    const dev = plans.devDestroy.stdout;
    expect(dev).toMatch(/^delete dev-1-data-format on /m);
    expect(dev).toMatch(/^delete dev-1-data-subvolume-pg on /m);
    expect(dev).not.toMatch(/^retain /m);
    expect(prod).toMatch(/^retain prod-1-spark-pg-instance-main on /m);
    expect(prod).toMatch(/^delete prod-1-spark-pg-instance-fixtures on /m);
    expect(dev).toMatch(/^delete dev-1-spark-pg-instance-main on /m);
  });

  it("orders spark-pg after the volume it lives on, and a fork after its source", () => {
    const created = [...plans.sandbox.stdout.matchAll(/^create (\S+)/gm)].map((m) => m[1]);
    const at = (name: string) => created.indexOf(name);
    expect(at("sandbox-data-subvolume-pg")).toBeLessThan(at("sandbox-spark-pg-tool"));
    expect(at("sandbox-spark-pg-packages")).toBeLessThan(at("sandbox-spark-pg-tool"));
    expect(at("sandbox-spark-pg-tool")).toBeLessThan(at("sandbox-spark-pg-instance-main"));
    expect(at("sandbox-spark-pg-instance-main")).toBeLessThan(at("sandbox-spark-pg-instance-fixtures"));
    const destroyed = [...plans.prodDestroy.stdout.matchAll(/^(?:delete|retain|forget) (\S+)/gm)].map((m) => m[1]);
    expect(destroyed.indexOf("prod-1-spark-pg-instance-main")).toBeLessThan(destroyed.indexOf("prod-1-data-subvolume-pg"));
  });

  it("deletes in the reverse order of creation", () => {
    const names = (text: string) => [...text.matchAll(/^(?:create|delete) (\S+)/gm)].map((m) => m[1]);
    // Commands with nothing to undo (no delete script) are forgotten, not deleted.
    const created = names(plans.dev.stdout).filter((n) => !/wait-for-ssh|base-packages|kvm-packages|kvm-qemu-conf|kvm-libvirt-guests|kvm-image-/.test(n));
    const deleted = names(plans.devDestroy.stdout);
    expect(deleted).toEqual([...created].reverse());
  });

  it("redacts secrets: the deploy key never appears", () => {
    expect(plans.sandbox.stdout).toContain("create sandbox-wait-for-ssh");
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
