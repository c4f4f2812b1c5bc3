import fs from "node:fs";
import { debianMirrors } from "./apt-mirror";
import { aptProxyPaths, aptProxyPids, startAptProxy, stopAptProxy, waitForAptProxy } from "./apt-proxy";
import { sandboxId } from "./container";
import { withLock } from "./lock";
import { netnsPath, networkNames, nftRuleset, planNetwork, usedThirds, type SandboxNetwork } from "./network-plan";
import type { StatePaths } from "./paths";
import { sh } from "./sh";

/** Every IPv4 network the machine's root namespace has an address in or a route to. */
async function machineNetworks(): Promise<string[]> {
  const addrs = JSON.parse((await sh`ip -j -4 addr show`).stdout) as { addr_info?: { local: string; prefixlen: number }[] }[];
  const routes = JSON.parse((await sh`ip -j -4 route show table all`).stdout) as { dst: string }[];
  return [
    ...addrs.flatMap((link) => (link.addr_info ?? []).map((a) => `${networkBase(a.local, a.prefixlen)}/${a.prefixlen}`)),
    ...routes.map((r) => r.dst).filter((dst) => dst !== "default").map((dst) => (dst.includes("/") ? dst : `${dst}/32`)),
  ];
}

/** 192.0.2.2/24 -> 192.0.2.0: parseCidr refuses host bits, an interface address has them. */
function networkBase(address: string, prefix: number): string {
  const value = address.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
  const base = prefix === 0 ? 0 : value - (value % 2 ** (32 - prefix));
  return [24, 16, 8, 0].map((shift) => Math.floor(base / 2 ** shift) % 256).join(".");
}

/** Machine-wide, under /run (root's alone): two ups must not both see a subnet free and both take it. */
const SUBNET_LOCK = "/run/sparks-sandbox-subnet.lock";

/** A subnet no other network on the machine uses (another sandbox's included), set up before any other up may choose. */
export async function claimNetwork(p: StatePaths): Promise<SandboxNetwork> {
  return withLock(
    SUBNET_LOCK,
    async () => {
      const network = planNetwork(sandboxId(p), usedThirds(await machineNetworks()));
      await setUpVeth(network);
      return network;
    },
    { waitMs: 30_000 },
  );
}

async function linkExists(name: string): Promise<boolean> {
  return (await sh`ip link show dev ${name}`.nothrow()).exitCode === 0;
}

async function nftTableExists(table: string): Promise<boolean> {
  return (await sh`nft list table inet ${table}`.nothrow()).exitCode === 0;
}

async function setUpVeth(n: SandboxNetwork): Promise<void> {
  const ns = n.namespace;
  if (!fs.existsSync(netnsPath(ns))) await sh`ip netns add ${ns}`;
  if (!(await linkExists(n.machineInterface))) await sh`ip link add ${n.machineInterface} type veth peer name eth0 netns ${ns}`;
  await sh`ip addr replace ${`${n.machineAddress}/${n.prefixLength}`} dev ${n.machineInterface}`;
  await sh`ip link set ${n.machineInterface} up`;
  await sh`ip -n ${ns} addr replace ${`${n.containerAddress}/${n.prefixLength}`} dev eth0`;
  await sh`ip -n ${ns} link set eth0 up`;
  await sh`ip -n ${ns} link set lo up`;
}

/**
 * The namespace, the veth pair with both addresses, the machine's firewall table and the apt proxy;
 * each step keeps what is already there, so reboot can run it again over a network that survived.
 */
export async function setUpNetwork(p: StatePaths, n: SandboxNetwork): Promise<void> {
  await setUpVeth(n);
  await sh({ input: nftRuleset(n) })`nft -f -`;
  const proxy = aptProxyPaths(p.dir);
  await startAptProxy(proxy, n.machineAddress, debianMirrors());
  await waitForAptProxy(proxy, n.machineAddress);
}

/** What of this state dir's network exists on the machine, named for a report. */
export async function networkLeftovers(p: StatePaths): Promise<string[]> {
  const names = networkNames(sandboxId(p));
  const found: string[] = [];
  if (fs.existsSync(netnsPath(names.namespace))) found.push(`netns ${names.namespace}`);
  if (await linkExists(names.machineInterface)) found.push(`veth ${names.machineInterface}`);
  if (await nftTableExists(names.nftTable)) found.push(`nft table inet ${names.nftTable}`);
  const proxy = aptProxyPids(aptProxyPaths(p.dir));
  if (proxy.length > 0) found.push(`apt-cacher-ng ${proxy.join(",")}`);
  return found;
}

/** Idempotent; after the container is stopped, since nspawn holds the namespace. Its state dir goes with the per-up dirs. */
export async function tearDownNetwork(p: StatePaths, report: (msg: string) => void): Promise<void> {
  const names = networkNames(sandboxId(p));
  const stopped = await stopAptProxy(aptProxyPaths(p.dir));
  if (stopped.length > 0) report(`stopped apt-cacher-ng (pid ${stopped.join(", ")})`);
  if (await nftTableExists(names.nftTable)) {
    await sh`nft delete table inet ${names.nftTable}`;
    report(`deleted nft table inet ${names.nftTable}`);
  }
  // Deleting one end of a veth pair deletes the other.
  if (await linkExists(names.machineInterface)) {
    await sh`ip link del ${names.machineInterface}`;
    report(`deleted veth ${names.machineInterface}`);
  }
  if (fs.existsSync(netnsPath(names.namespace))) {
    await sh`ip netns del ${names.namespace}`;
    report(`deleted netns ${names.namespace}`);
  }
}
