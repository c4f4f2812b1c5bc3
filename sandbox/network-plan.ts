import { cidrContains, parseCidr } from "../lib/cidr";

/** What connection.json records of the sandbox's network, so tests know both ends of the veth. */
export interface SandboxNetwork {
  /** The network namespace under /run/netns the container runs in. */
  namespace: string;
  /** The machine's end of the veth pair, in its root namespace (the container's end is eth0). */
  machineInterface: string;
  machineAddress: string;
  containerAddress: string;
  prefixLength: number;
  /** The machine's own nftables table that fences the container off. */
  nftTable: string;
}

export const SUBNET_PREFIX = "10.213";
export const APT_PROXY_PORT = 3142;
/** Ports tests may serve on at the machine's end of the veth (an image the guest downloads, say). */
export const TEST_PORTS = { from: 18000, to: 18099 } as const;
/** Linux's IFNAMSIZ less the terminating NUL. */
export const MAX_INTERFACE_NAME = 15;

/** Names derived from the sandbox id alone, so teardown finds them without connection.json. */
export function networkNames(id: string): Pick<SandboxNetwork, "namespace" | "machineInterface" | "nftTable"> {
  const names = { namespace: `sparks-${id}`, machineInterface: `sph${id}`, nftTable: `sparks_sandbox_${id}` };
  if (names.machineInterface.length > MAX_INTERFACE_NAME) throw new Error(`interface name ${names.machineInterface} is longer than ${MAX_INTERFACE_NAME} characters`);
  return names;
}

/** Where `ip netns add` bind-mounts the namespace, which nspawn joins. */
export function netnsPath(namespace: string): string {
  return `/run/netns/${namespace}`;
}

export function subnetOf(third: number): string {
  return `${SUBNET_PREFIX}.${third}.0/24`;
}

/** The third octet the id prefers (1..254): stable per state dir, spread across sandboxes. */
export function preferredThird(id: string): number {
  return (parseInt(id.slice(0, 6), 16) % 254) + 1;
}

/**
 * Third octets whose 10.213.X.0/24 overlaps a network the machine already has: an address's own
 * network or a route's destination (the default route excepted, it overlaps everything).
 */
export function usedThirds(networks: string[]): Set<number> {
  const used = new Set<number>();
  for (const text of networks) {
    const cidr = parseCidr(text);
    if ("error" in cidr || cidr.family !== 4 || cidr.prefix === 0) continue;
    for (let third = 1; third <= 254; third++) {
      const ours = parseCidr(subnetOf(third));
      if ("error" in ours) continue;
      const overlaps = cidr.prefix <= 24 ? cidrContains(cidr, ours.address) : cidrContains(ours, cidr.address);
      if (overlaps) used.add(third);
    }
  }
  return used;
}

/** The preferred octet, else the next free one after it (wrapping), so no two sandboxes share a subnet. */
export function chooseThird(preferred: number, used: Set<number>): number {
  for (let step = 0; step < 254; step++) {
    const third = ((preferred - 1 + step) % 254) + 1;
    if (!used.has(third)) return third;
  }
  throw new Error(`every ${SUBNET_PREFIX}.X.0/24 (X = 1..254) is already routed or assigned on this machine`);
}

export function planNetwork(id: string, used: Set<number>): SandboxNetwork {
  const third = chooseThird(preferredThird(id), used);
  return {
    ...networkNames(id),
    machineAddress: `${SUBNET_PREFIX}.${third}.1`,
    containerAddress: `${SUBNET_PREFIX}.${third}.2`,
    prefixLength: 24,
  };
}

export function networkSummary(n: SandboxNetwork): string {
  return `netns ${n.namespace}, ${n.machineInterface} ${n.machineAddress}/${n.prefixLength} (apt proxy :${APT_PROXY_PORT}, test ports ${TEST_PORTS.from}-${TEST_PORTS.to}) <-> eth0 ${n.containerAddress}`;
}

/**
 * The machine's firewall against its container, in a table of its own (replaced whole, so a rerun
 * converges and no other table is touched). Nothing arriving from the veth reaches the machine but
 * replies, ping, the apt proxy and the test ports, all on the machine's veth address; nothing is
 * forwarded to or from it.
 */
export function nftRuleset(n: SandboxNetwork): string {
  const from = `iifname "${n.machineInterface}"`;
  const toMachine = `${from} ip daddr ${n.machineAddress}`;
  return [
    // Declaring the table first makes the delete succeed when it does not exist yet.
    `table inet ${n.nftTable}`,
    `delete table inet ${n.nftTable}`,
    `table inet ${n.nftTable} {`,
    "  chain input {",
    "    type filter hook input priority filter; policy accept;",
    `    ${from} ct state established,related accept`,
    `    ${toMachine} ip protocol icmp accept`,
    `    ${toMachine} tcp dport ${APT_PROXY_PORT} accept`,
    `    ${toMachine} tcp dport ${TEST_PORTS.from}-${TEST_PORTS.to} accept`,
    `    ${from} drop`,
    "  }",
    "  chain forward {",
    "    type filter hook forward priority filter; policy accept;",
    `    ${from} drop`,
    `    oifname "${n.machineInterface}" drop`,
    "  }",
    "}",
    "",
  ].join("\n");
}
