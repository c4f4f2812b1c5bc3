import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import tls from "node:tls";
import { afterAll, describe, expect, it } from "vitest";
import { e2eBlockerFor, listenWhereTheMachineReaches, RESULTS, ROOT, runCli, sandboxDeploy, sandboxHostForTests, sandboxNetwork, sandboxStackFile, withMachineAddress } from "./support";

const blocker = e2eBlockerFor("the host firewall e2e tests");

/**
 * This file's own sandbox host. It sits in a network namespace of its own, so the firewall it
 * gets filters only the container's traffic, and the machine side of its veth is a client off the host.
 */
const STATE_DIR = path.join(ROOT, ".sandbox-e2e-firewall");
const MANIFEST = path.join(RESULTS, "verify-manifest-sandbox-firewall.json");
const CONFIRMED_MANIFEST = path.join(RESULTS, "verify-manifest-sandbox-firewall-confirmed.json");
const { apply, verify, onHost } = sandboxDeploy(STATE_DIR, MANIFEST);

const network = () => sandboxNetwork(STATE_DIR);

/** spark-pg and Redis on the container's veth address, open to the machine side; one instance each. */
function firewallStack(name: string, firewall: (machine: string) => Record<string, unknown>): string {
  return sandboxStackFile(`firewall-${name}`, ["sparkPg", "redis"], ([host]) => {
    listenWhereTheMachineReaches(STATE_DIR)(host);
    for (const service of [host.sparkPg, host.redis]) service.instances = [{ name: "main" }];
    host.firewall = firewall(network().machineAddress);
  });
}

const scratch = mkdtempSync(path.join(os.tmpdir(), "sparks-firewall-e2e-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** What a client needs of an instance: where it is, and its password (read once, over SSH). */
async function instanceUri(tool: "spark-pg" | "spark-redis"): Promise<URL> {
  const run = await onHost(`${tool} connect main --uri`);
  expect(run.code, run.stderr).toBe(0);
  return new URL(run.stdout.trim());
}

async function hostCa(): Promise<string> {
  const run = await onHost("cat /etc/sparks/tls/ca.crt");
  expect(run.code, run.stderr).toBe(0);
  writeFileSync(path.join(scratch, "ca.crt"), run.stdout);
  return run.stdout;
}

/** psql on the machine: the password in its environment, never on a command line. */
function psql(uri: URL, password: string, sslmode: string): Promise<{ code: number | null; output: string }> {
  const args = ["-h", uri.hostname, "-p", uri.port, "-U", uri.username, "-d", uri.pathname.slice(1), "-Atc", "select 'logged in as ' || current_user"];
  const env = { ...process.env, PGPASSWORD: password, PGSSLMODE: sslmode, PGSSLROOTCERT: path.join(scratch, "ca.crt"), PGCONNECT_TIMEOUT: "5" };
  return new Promise((resolve) => {
    const child = execFile("psql", args, { env, encoding: "utf8" }, (_e, stdout, stderr) => resolve({ code: child.exitCode, output: stdout + stderr }));
  });
}

/** Redis over TLS verified with the host CA: what AUTH, then PING, answer. */
function redisOverTls(uri: URL, ca: string, user: string, password: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: uri.hostname, port: Number(uri.port), ca });
    let said = "";
    socket.setTimeout(5000, () => socket.destroy());
    socket.once("secureConnect", () => socket.write(`AUTH ${user} ${password}\r\nPING\r\n`));
    socket.on("data", (chunk) => {
      said += chunk.toString("utf8");
      if (said.split("\r\n").length > 2) socket.end();
    });
    socket.once("error", (error) => (said += `error: ${error.message}`));
    socket.once("close", () => resolve(said));
  });
}

/** The first bytes a plain-text client gets for PING, or how the connection ended. */
function redisInClear(uri: URL): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: uri.hostname, port: Number(uri.port) }, () => socket.write("PING\r\n"));
    let said = "";
    socket.setTimeout(5000, () => socket.destroy());
    socket.on("data", (chunk) => (said += chunk.toString("latin1")));
    socket.once("error", (error) => (said += `error: ${error.message}`));
    socket.once("close", () => resolve(said || "closed"));
  });
}

/** Whether a TCP handshake with address:port completes from `source` within 3 s: a dropped SYN times out. */
function tcpReaches(address: string, port: number, source: string): Promise<"connected" | "timed out" | string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port, localAddress: source });
    socket.setTimeout(3000, () => {
      socket.destroy();
      resolve("timed out");
    });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error) => resolve(error.message));
  });
}

async function instancePort(tool: "spark-pg" | "spark-redis"): Promise<number> {
  const run = await onHost(`${tool} status main --json`);
  expect(run.code, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as { port: number }).port;
}

/** A second address on the machine's end of the veth: a client from a network the config does not declare. */
function withUndeclaredSource<T>(body: (source: string) => Promise<T>): Promise<T> {
  const source = network().machineAddress.replace(/\.\d+$/, ".3");
  return withMachineAddress(network(), source, () => body(source));
}

const loadedGeneration = async () => (await onHost(`nft list table inet sparks | sed -n 's/^\\s*comment "sparks-firewall \\([0-9a-f]*\\)"$/\\1/p'`)).stdout.trim();

describe.skipIf(blocker !== undefined)("the host firewall on the sandbox host", () => {
  sandboxHostForTests(STATE_DIR, "4G");

  it("apply loads the rules, confirms them from a new SSH connection, and verify passes the firewall's checks", async () => {
    const run = await apply(firewallStack("on", (machine) => ({ adminNetworks: [`${machine}/32`], confirmSeconds: 30 })));
    expect(run.output).toMatch(/sandbox-firewall-rules: changed/);
    expect(run.output).toMatch(/sandbox-firewall-confirm: changed/);
    expect(run.code, run.output).toBe(0);
    copyFileSync(MANIFEST, CONFIRMED_MANIFEST);
    const { machineAddress } = network();
    const checked = await verify("verify-firewall-after-apply.xml");
    for (const check of [
      `firewall: SSH port 22 open to ${machineAddress}/32`,
      "firewall: table inet sparks drops inbound traffic it does not let in",
      "firewall: lets in nothing else",
    ]) {
      expect(checked.output).toContain(`✓ ${check}`);
    }
    expect(checked.output).toMatch(/✓ firewall: spark-pg ports 25500-25519 on [\d.]+ open to [\d.]+\/32/);
    expect(checked.output).toMatch(/✓ firewall: rules [0-9a-f]{16} loaded, confirmed, and loaded at boot/);
    expect(checked.code, checked.output).toBe(0);
  });

  it("from a declared client: TLS with the right password logs in; a wrong password and the plain protocol are refused (Postgres)", async () => {
    await hostCa();
    const uri = await instanceUri("spark-pg");
    const password = decodeURIComponent(uri.password);
    expect(await psql(uri, password, "verify-full")).toMatchObject({ code: 0, output: "logged in as main\n" });
    const wrong = await psql(uri, `${password}x`, "verify-full");
    expect(wrong.output).toContain(`password authentication failed for user "main"`);
    const plain = await psql(uri, password, "disable");
    expect(plain.output).toContain(`no pg_hba.conf entry for host "${network().machineAddress}", user "${uri.username}", database "${uri.pathname.slice(1)}", no encryption`);
  });

  it("from a declared client: TLS with the right password answers; a wrong password and the plain protocol are refused (Redis)", async () => {
    const ca = await hostCa();
    const uri = await instanceUri("spark-redis");
    const password = decodeURIComponent(uri.password);
    expect(await redisOverTls(uri, ca, uri.username, password)).toBe("+OK\r\n+PONG\r\n");
    expect(await redisOverTls(uri, ca, uri.username, `${password}x`)).toMatch(/^-WRONGPASS/);
    expect(await redisInClear(uri)).not.toContain("+PONG");
  });

  it("from an undeclared source the firewall drops SSH and both pools, which answer the declared one", async () => {
    const { machineAddress, containerAddress } = network();
    const ports = { ssh: 22, pg: await instancePort("spark-pg"), redis: await instancePort("spark-redis") };
    for (const port of Object.values(ports)) expect(await tcpReaches(containerAddress, port, machineAddress)).toBe("connected");
    await withUndeclaredSource(async (source) => {
      for (const port of Object.values(ports)) expect(await tcpReaches(containerAddress, port, source)).toBe("timed out");
      const report = path.join(RESULTS, "verify-firewall-from-undeclared.json");
      const run = await verify("verify-firewall-from-undeclared.xml", "--from-here", "--source", source, "--format", "json", "--out", report);
      const checks = (JSON.parse(readFileSync(report, "utf8")) as { hosts: { checks: { name: string; status: string; found?: string }[] }[] }).hosts[0].checks;
      for (const service of ["spark-pg", "redis"]) {
        expect(checks.find((c) => c.name === `from here: ${service} main: this client's address is let in only if declared`)).toMatchObject({
          status: "pass",
          found: `${source} refused: no answer (the firewall dropped it)`,
        });
        expect(checks.find((c) => c.name.startsWith(`from here: ${service} main: TLS`))?.status).toBe("skip");
      }
      expect(run.code, run.output).toBe(0);
    });
    const here = await verify("verify-firewall-from-here.xml", "--from-here");
    expect(here.output).toContain(`✓ from here: redis main: this client's address is let in only if declared`);
    expect(here.code, here.output).toBe(0);
  });

  it("a change that would cut the deploy's SSH is taken back by the host, and the deploy says why", async () => {
    const before = await loadedGeneration();
    expect(before).toMatch(/^[0-9a-f]{16}$/);
    const started = Date.now();
    const run = await apply(firewallStack("cut", () => ({ adminNetworks: ["192.0.2.0/24"], confirmSeconds: 15 })));
    console.log(`apply of rules that cut SSH: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(run.code).not.toBe(0);
    expect(run.output).toMatch(/sandbox-firewall-rules: changed/);
    expect(run.output).toContain("are not loaded (loaded: " + before + "): no new SSH connection confirmed them within 15 s");
    expect(run.output).toContain("check the host's firewall.adminNetworks and sshPort");
    // SSH is back, with the rules confirmed last, which still load at boot.
    expect(await loadedGeneration()).toBe(before);
    const checked = await runCli("verify/cli.ts", ["--manifest", CONFIRMED_MANIFEST], STATE_DIR);
    expect(checked.output).toMatch(/^\d+ passed, 0 failed/m);
    expect(checked.code, checked.output).toBe(0);
  });

  it("destroy removes the table, the boot unit and the kept rules: the host is as open as before", async () => {
    const run = await apply(firewallStack("on", (machine) => ({ adminNetworks: [`${machine}/32`], confirmSeconds: 30 })), "--destroy");
    expect(run.code, run.output).toBe(0);
    const left = await onHost("nft list tables; ls /etc/sparks/firewall /etc/systemd/system/sparks-firewall.service 2>&1; systemctl is-active sparks-firewall-revert.timer");
    expect(left.stdout).not.toContain("table inet sparks");
    expect(left.stdout).toContain("cannot access '/etc/sparks/firewall'");
    expect(left.stdout).toContain("cannot access '/etc/systemd/system/sparks-firewall.service'");
    expect(left.stdout.trim().split("\n").at(-1)).toBe("inactive");
  });
});
