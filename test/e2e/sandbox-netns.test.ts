import { existsSync } from "node:fs";
import { createServer, type Server } from "node:net";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sandboxDown, sandboxReboot, sandboxUp } from "../../sandbox";
import { aptProxyPaths, aptProxyPids } from "../../sandbox/apt-proxy";
import { sshTarget } from "../../sandbox/boot";
import type { SandboxConnection } from "../../sandbox/connection";
import { netnsPath, TEST_PORTS } from "../../sandbox/network-plan";
import { statePaths } from "../../sandbox/paths";
import { sh } from "../../sandbox/sh";
import { sshRun } from "../../sandbox/ssh";
import { findLeftovers, isEmpty } from "../../sandbox/teardown";
import { e2eBlockerFor, onSandboxHost, ROOT } from "./support";

const blocker = e2eBlockerFor("the sandbox network e2e tests");

const STATE_DIR = path.join(ROOT, ".sandbox-e2e-netns");
/** A second sandbox beside the first, as a CI clone's may run beside a developer's. */
const OTHER_DIR = path.join(ROOT, ".sandbox-e2e-netns-other");
const onHost = onSandboxHost(STATE_DIR);
const onOther = onSandboxHost(OTHER_DIR);

/** From inside the container: "open", or why a TCP connect failed (3 s at most). */
const CONNECT = `import socket, sys
s = socket.socket(); s.settimeout(3)
try:
    s.connect((sys.argv[1], int(sys.argv[2]))); print("open")
except Exception as e:
    print(type(e).__name__)`;
const reachFrom = async (run: (c: string) => Promise<{ stdout: string }>, address: string, port: number) =>
  (await run(`python3 -c '${CONNECT}' ${address} ${port}`)).stdout.trim();

/** An HTTP status through the proxy as the container's apt would ask it; CONNECT for a tunnel. */
const VIA_PROXY = `import http.client, sys
c = http.client.HTTPConnection(sys.argv[1], 3142, timeout=20)
c.request(sys.argv[2], sys.argv[3], headers={"Host": sys.argv[4]})
print(c.getresponse().status)`;
const viaProxy = async (proxy: string, method: string, target: string, host: string) =>
  (await onHost(`python3 -c '${VIA_PROXY}' ${proxy} ${method} ${target} ${host}`)).stdout.trim();

function listen(port: number, host: string): Promise<Server> {
  const server = createServer((socket) => {
    // The probe closes as soon as it has connected: a reset from it is expected, not a failure.
    socket.on("error", () => {});
    socket.end("hello\n");
  });
  return new Promise((resolve, reject) => server.once("error", reject).listen(port, host, () => resolve(server)));
}

/** The machine's IPv4 addresses off the sandbox's veth: what the container must never reach. */
async function machineAddresses(except: string): Promise<string[]> {
  const links = JSON.parse((await sh`ip -j -4 addr show`).stdout) as { ifname: string; addr_info: { local: string }[] }[];
  return links.filter((l) => l.ifname !== except && l.ifname !== "lo").flatMap((l) => l.addr_info.map((a) => a.local));
}

describe.skipIf(blocker !== undefined)("the sandbox host's own network namespace", () => {
  let c: SandboxConnection;
  const servers: Server[] = [];
  const ALLOWED = TEST_PORTS.from + 50;
  const OUTSIDE = TEST_PORTS.to + 1;

  beforeAll(async () => {
    c = (await sandboxUp({ stateDir: STATE_DIR, diskSize: "1G" })).connection;
    const n = c.network;
    for (const [port, host] of [[ALLOWED, n.machineAddress], [OUTSIDE, n.machineAddress], [OUTSIDE, "127.0.0.1"], [OUTSIDE + 1, "0.0.0.0"]] as const) {
      servers.push(await listen(port, host));
    }
  }, 300_000);
  afterAll(async () => {
    for (const server of servers) server.close();
    await sandboxDown({ stateDir: STATE_DIR });
    await sandboxDown({ stateDir: OTHER_DIR });
  }, 300_000);

  it("ssh from the machine reaches the container's veth address on port 22, OpenSSH and ssh2 alike", async () => {
    expect(c).toMatchObject({ address: c.network.containerAddress, port: 22 });
    expect(c.network.namespace).toMatch(/^sparks-[0-9a-f]{8}$/);
    expect(c.network.machineInterface.length).toBeLessThanOrEqual(15);
    const openssh = await sshRun(sshTarget(statePaths(STATE_DIR), c), "ip -4 -br addr show dev eth0");
    expect(openssh.exitCode, openssh.stderr).toBe(0);
    expect(openssh.stdout).toContain(`${c.network.containerAddress}/${c.network.prefixLength}`);
    expect((await onHost("ss -Hltn 'sport = :22'")).stdout.trim().split(/\s+/)[3]).toBe(`${c.network.containerAddress}:22`);
  });

  it("has no default route, and no name server it could reach", async () => {
    expect((await onHost("ip route show default")).stdout.trim()).toBe("");
    expect((await onHost("ip -4 route")).stdout.trim()).toBe(`${c.network.machineAddress.replace(/\.1$/, ".0")}/24 dev eth0 proto kernel scope link src ${c.network.containerAddress}`);
    expect((await onHost("grep -c nameserver /etc/resolv.conf || true")).stdout.trim()).toBe("0");
  });

  it("reaches the test port range on the machine's veth address, and no other machine port", async () => {
    expect(await reachFrom(onHost, c.network.machineAddress, ALLOWED)).toBe("open");
    expect(await reachFrom(onHost, c.network.machineAddress, OUTSIDE)).toBe("TimeoutError");
    expect(await reachFrom(onHost, c.network.machineAddress, 22)).toBe("TimeoutError");
    // The machine's loopback is not the container's: its 127.0.0.1 is its own.
    expect(await reachFrom(onHost, "127.0.0.1", OUTSIDE)).toBe("ConnectionRefusedError");
  });

  it("cannot reach the machine's other addresses even with a default route it adds itself", async () => {
    const others = await machineAddresses(c.network.machineInterface);
    expect(others.length).toBeGreaterThan(0);
    for (const address of others) expect(await reachFrom(onHost, address, OUTSIDE + 1), address).toBe("OSError");
    expect((await onHost(`ip route add default via ${c.network.machineAddress}`)).code).toBe(0);
    try {
      for (const address of others) expect(await reachFrom(onHost, address, OUTSIDE + 1), address).toBe("TimeoutError");
    } finally {
      await onHost("ip route del default");
    }
    expect(await reachFrom(onHost, c.network.machineAddress, OUTSIDE + 1)).toBe("TimeoutError");
  });

  it("apt-get update works through the sandbox's proxy", async () => {
    expect((await onHost("apt-config dump Acquire::http::Proxy")).stdout.trim()).toBe(`Acquire::http::Proxy "http://${c.network.machineAddress}:3142";`);
    const update = await onHost("apt-get update 2>&1");
    expect(update.code, update.stdout).toBe(0);
    expect(update.stdout).not.toMatch(/^(Err|W|E):/m);
    expect(update.stdout).toMatch(/^(Get|Hit):\d+ http:\/\/deb\.debian\.org\/debian bookworm/m);
  }, 180_000);

  it("the proxy serves the machine's mirror and refuses any other host, path or tunnel", async () => {
    const proxy = c.network.machineAddress;
    expect(await viaProxy(proxy, "GET", "http://deb.debian.org/debian/dists/bookworm/Release", "deb.debian.org")).toBe("200");
    expect(await viaProxy(proxy, "GET", "http://example.com/", "example.com")).toBe("403");
    expect(await viaProxy(proxy, "GET", "http://deb.debian.org/not-debian/", "deb.debian.org")).toBe("403");
    expect(await viaProxy(proxy, "CONNECT", "deb.debian.org:443", "deb.debian.org:443")).not.toBe("200");
    expect((await sh`ss -Hltn ${["sport", "=", ":3142"]}`).stdout.trim().split("\n").map((l) => l.split(/\s+/)[3])).toContain(`${proxy}:3142`);
    expect(aptProxyPids(aptProxyPaths(STATE_DIR)).length).toBe(1);
  });

  it("a second sandbox gets a subnet of its own, and the two cannot reach each other", async () => {
    const other = (await sandboxUp({ stateDir: OTHER_DIR, diskSize: "1G" })).connection;
    expect(other.network.namespace).not.toBe(c.network.namespace);
    expect(other.network.machineAddress).not.toBe(c.network.machineAddress);
    expect((await onOther("true")).code).toBe(0);
    expect((await onHost(`ip route add default via ${c.network.machineAddress}`)).code).toBe(0);
    try {
      // Dropped by the forward rule, or answered "unreachable" by the machine, which forwards nothing.
      expect(["TimeoutError", "OSError"]).toContain(await reachFrom(onHost, other.network.containerAddress, 22));
    } finally {
      await onHost("ip route del default");
    }
    await sandboxDown({ stateDir: OTHER_DIR });
  }, 300_000);

  it("reboot keeps the same network", async () => {
    const rebooted = (await sandboxReboot({ stateDir: STATE_DIR })).connection;
    expect(rebooted.network).toEqual(c.network);
    expect(await reachFrom(onHost, c.network.machineAddress, ALLOWED)).toBe("open");
    c = rebooted;
  }, 300_000);

  it("a crashed sandbox's network is a leftover that the next up removes before it starts afresh", async () => {
    process.kill(c.nspawnPid, "SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const left = await findLeftovers(statePaths(STATE_DIR));
    expect(left.network).toEqual(expect.arrayContaining([`netns ${c.network.namespace}`, `veth ${c.network.machineInterface}`, `nft table inet ${c.network.nftTable}`, expect.stringMatching(/^apt-cacher-ng \d+/)]));
    const again = await sandboxUp({ stateDir: STATE_DIR, diskSize: "1G" });
    expect(again.alreadyUp).toBe(false);
    expect(again.connection.network.namespace).toBe(c.network.namespace);
    expect(aptProxyPids(aptProxyPaths(STATE_DIR)).length).toBe(1);
    c = again.connection;
  }, 300_000);

  it("down removes the namespace, the veth, the nft table and the proxy with its state", async () => {
    await sandboxDown({ stateDir: STATE_DIR });
    expect(existsSync(netnsPath(c.network.namespace))).toBe(false);
    expect((await sh`ip link show dev ${c.network.machineInterface}`.nothrow()).exitCode).not.toBe(0);
    expect((await sh`nft list table inet ${c.network.nftTable}`.nothrow()).exitCode).not.toBe(0);
    expect(aptProxyPids(aptProxyPaths(STATE_DIR))).toEqual([]);
    expect(existsSync(aptProxyPaths(STATE_DIR).dir)).toBe(false);
    expect(isEmpty(await findLeftovers(statePaths(STATE_DIR)))).toBe(true);
  });
});
