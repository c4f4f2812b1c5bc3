import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { e2eBlockerFor, RESULTS, ROOT, sandboxDeploy, sandboxHostForTests, sandboxNetwork, sandboxStackFile } from "./support";

const blocker = e2eBlockerFor("the KVM network e2e tests");

/**
 * This file's own sandbox host, in its own network namespace: libvirt's NAT bridge, its dnsmasq
 * and NAT rules, and the LAN bridge below live there, not on the machine.
 */
const STATE_DIR = path.join(ROOT, ".sandbox-e2e-kvm-networks");
const { apply, verify, onHost } = sandboxDeploy(STATE_DIR, path.join(RESULTS, "verify-manifest-sandbox-kvm-networks.json"));

const NAT_GUEST = "nat-guest";
const LAN_GUEST = "lan-guest";
/** A bridge the host already has (the operator's LAN): the `bridge` network's guests join it. */
const LAN_BRIDGE = "br-sparks-lan";
const consoleLog = (guest: string) => `/srv/sparks/images/guests/${guest}/console.log`;

/** Two guests, one on a libvirt NAT network, one on the host's LAN bridge; the host firewall on, SSH from the machine only. */
function networksStack(): string {
  const { machineAddress } = sandboxNetwork(STATE_DIR);
  return sandboxStackFile("kvm-networks", ["kvm"], ([host]) => {
    host.kvm.networks = [
      { name: "sparks-nat", mode: "nat", bridge: "virbr-sparks", address: "192.168.150.1/24" },
      { name: "lan", mode: "bridge", bridge: LAN_BRIDGE },
    ];
    const guest = host.kvm.guests[0];
    host.kvm.guests = [
      { ...guest, name: NAT_GUEST, network: "sparks-nat", nested: false },
      { ...guest, name: LAN_GUEST, network: "lan", nested: false },
    ];
    host.firewall = { adminNetworks: [`${machineAddress}/32`] };
  });
}

/** The guest's readiness line for this boot, once it has printed one. */
async function readyLine(guest: string, seconds = 120): Promise<string> {
  const result = await onHost(`for i in $(seq 1 ${seconds * 5}); do grep -m1 '^sparks-ready ' ${consoleLog(guest)} 2>/dev/null && exit 0; sleep 0.2; done; exit 1`);
  expect(result.code, `no readiness line from ${guest}`).toBe(0);
  return result.stdout.trim();
}

describe.skipIf(blocker !== undefined)("KVM networks on the sandbox host (NAT and bridge)", () => {
  sandboxHostForTests(STATE_DIR, "8G", 120_000);

  it("apply starts the NAT network (dnsmasq and all) and both guests, the host's firewall on", async () => {
    const bridge = await onHost(`ip link add ${LAN_BRIDGE} type bridge && ip link set ${LAN_BRIDGE} up`);
    expect(bridge.code, bridge.stderr).toBe(0);
    const run = await apply(networksStack());
    console.log(`first apply: ${run.seconds.toFixed(1)} s`);
    expect(run.output).toMatch(/sandbox-kvm-network-sparks-nat: changed/);
    expect(run.output).toMatch(/sandbox-firewall-confirm: changed/);
    expect(run.code, run.output).toBe(0);
    const nat = await onHost("virsh net-info sparks-nat && ip -4 -o addr show dev virbr-sparks");
    expect(nat.stdout).toMatch(/^Active:\s+yes$/m);
    expect(nat.stdout).toContain("inet 192.168.150.1/24");
  }, 900_000);

  it("the NAT guest gets its address from libvirt's DHCP through the firewall, and the host reaches it", async () => {
    const ready = await readyLine(NAT_GUEST);
    const address = /address=(192\.168\.150\.\d+)/.exec(ready)?.[1];
    expect(address, ready).toBeDefined();
    const lease = await onHost("virsh net-dhcp-leases sparks-nat");
    expect(lease.stdout).toContain(`${address}/24`);
    const page = await onHost(`exec 3<>/dev/tcp/${address}/80 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && timeout 10 cat <&3`);
    expect(page.stdout).toContain(`sparks-guest ${NAT_GUEST}`);
  }, 180_000);

  it("the bridge guest joins the host's LAN bridge: its port is on it and its frames reach it", async () => {
    await readyLine(LAN_GUEST);
    const mac = (await onHost(`virsh domiflist ${LAN_GUEST} | awk '$3 == "${LAN_BRIDGE}" { print $5 }'`)).stdout.trim();
    expect(mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    const ports = await onHost(`ip -o link show master ${LAN_BRIDGE}`);
    expect(ports.stdout).toMatch(/vnet\d+/);
    // The guest's DHCP requests taught the bridge its address: the frames came through.
    const learned = await onHost(`bridge fdb show br ${LAN_BRIDGE}`);
    expect(learned.stdout).toContain(mac);
  }, 180_000);

  it("verify passes: guests, the NAT network's bridge open to its guests' DHCP and DNS in the firewall", async () => {
    const run = await verify("verify-kvm-networks.xml");
    for (const guest of [NAT_GUEST, LAN_GUEST]) expect(run.output).toContain(`✓ kvm ${guest}: reached userspace`);
    expect(run.output).toContain("✓ firewall: lets in nothing else");
    expect(run.output).toMatch(/^\d+ passed, 0 failed/m);
    expect(run.code, run.output).toBe(0);
  }, 300_000);

  it("destroy removes both guests and the NAT network, and leaves the host's own bridge", async () => {
    const run = await apply(networksStack(), "--destroy");
    expect(run.code, run.output).toBe(0);
    const left = await onHost(`virsh list --all --name; virsh net-list --all --name; ip -o link show ${LAN_BRIDGE}`);
    expect(left.stdout).not.toContain(NAT_GUEST);
    expect(left.stdout).not.toContain("sparks-nat");
    expect(left.stdout).toContain(LAN_BRIDGE);
  }, 300_000);
});
