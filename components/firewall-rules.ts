import { createHash } from "node:crypto";
import { isIP } from "node:net";
import { parseCidr, type Cidr } from "../lib/cidr";

/** The one nftables table the firewall owns; every other table (libvirt's, an operator's) is left alone. */
export const FIREWALL_TABLE = "sparks";

/** A service's port pool, opened on its listen address to its declared client networks only. */
export interface FirewallService {
  /** Set name stem and what the verify checks call it, e.g. "spark-pg". */
  name: string;
  listen: string;
  ports: { from: number; to: number };
  /** CIDRs of listen's family; none: the pool is reachable from the host itself only. */
  clients: string[];
}

export interface FirewallRules {
  sshPort: number;
  /** CIDRs, either family, that may open SSH connections. */
  adminNetworks: string[];
  services: FirewallService[];
  /** libvirt NAT bridges whose guests get DHCP and DNS from the host's dnsmasq. */
  guestBridges: string[];
}

/** Set names as the ruleset and verify know them. */
export const firewallSets = {
  admin: (family: 4 | 6) => `ssh_admin_ipv${family}`,
  clients: (service: string) => `${service.replace(/[^a-z0-9]/g, "_")}_clients`,
};

const cidrs = (texts: string[]): Cidr[] =>
  texts.map((text) => {
    const cidr = parseCidr(text);
    // Validation refused these before a component is built; reaching here is a programming error.
    if ("error" in cidr) throw new Error(cidr.error);
    return cidr;
  });

// A /32 or /128 is written as the address: nft lists it that way, so the live set reads back the same.
const element = (c: Cidr) => (c.prefix === (c.family === 4 ? 32 : 128) ? c.address : `${c.address}/${c.prefix}`);

function set(name: string, family: 4 | 6, members: Cidr[]): string[] {
  const elements = members.length === 0 ? [] : [`\t\telements = { ${members.map(element).join(", ")} }`];
  return [`\tset ${name} {`, `\t\ttype ipv${family}_addr`, "\t\tflags interval", ...elements, "\t}"];
}

/** A pool as nft writes it: one port alone, else the range. */
export const portsText = (ports: { from: number; to: number }) => (ports.from === ports.to ? `${ports.from}` : `${ports.from}-${ports.to}`);

const ipKeyword = (family: 4 | 6) => (family === 4 ? "ip" : "ip6");

/** The rules without their generation line: what the generation is a hash of. */
function tableBody(rules: FirewallRules): string[] {
  const admin = cidrs(rules.adminNetworks);
  const sets = [
    ...set(firewallSets.admin(4), 4, admin.filter((c) => c.family === 4)),
    ...set(firewallSets.admin(6), 6, admin.filter((c) => c.family === 6)),
    ...rules.services.flatMap((s) => set(firewallSets.clients(s.name), isIP(s.listen) as 4 | 6, cidrs(s.clients))),
  ];
  const serviceRules = rules.services.map((s) => {
    const ip = ipKeyword(isIP(s.listen) as 4 | 6);
    return `\t\t${ip} daddr ${s.listen} tcp dport ${portsText(s.ports)} ${ip} saddr @${firewallSets.clients(s.name)} accept`;
  });
  const bridgeRules = rules.guestBridges.flatMap((bridge) => [
    `\t\tiifname "${bridge}" udp dport { 53, 67 } accept`,
    `\t\tiifname "${bridge}" tcp dport 53 accept`,
  ]);
  return [
    ...sets,
    "\tchain input {",
    "\t\ttype filter hook input priority filter; policy drop;",
    // The tools and verify reach every instance over loopback, whatever the address.
    '\t\tiif "lo" accept',
    "\t\tct state established,related accept",
    "\t\tct state invalid drop",
    // Path MTU discovery and IPv6 neighbour discovery stop working without ICMP. nft's own names:
    // "ipv6-icmp" would need /etc/protocols (netbase), which a minimal host lacks.
    "\t\tmeta l4proto { icmp, icmpv6 } accept",
    // A host on DHCP would lose its address, and with it the deploy's way in.
    "\t\tudp sport 67 udp dport 68 accept",
    "\t\tmeta nfproto ipv6 udp dport 546 accept",
    `\t\ttcp dport ${rules.sshPort} ip saddr @${firewallSets.admin(4)} accept`,
    `\t\ttcp dport ${rules.sshPort} ip6 saddr @${firewallSets.admin(6)} accept`,
    ...serviceRules,
    ...bridgeRules,
    "\t}",
  ];
}

/** A short hash of the rules: the live table carries it, so a deploy, its confirmation and verify tell one ruleset from another. */
export function firewallGeneration(rules: FirewallRules): string {
  return createHash("sha256").update(tableBody(rules).join("\n")).digest("hex").slice(0, 16);
}

/**
 * The ruleset as one `nft -f` transaction: the table is created if missing, deleted, and declared
 * again, so applying it replaces exactly our table, atomically, and never flushes another.
 */
export function renderFirewallRules(rules: FirewallRules): string {
  return [
    `table inet ${FIREWALL_TABLE}`,
    `delete table inet ${FIREWALL_TABLE}`,
    `table inet ${FIREWALL_TABLE} {`,
    `\tcomment "sparks-firewall ${firewallGeneration(rules)}"`,
    ...tableBody(rules),
    "}",
    "",
  ].join("\n");
}

/** What the rules let in, one line each: the command's OPENS, so a reviewer reads a change of access in the plan. */
export function firewallOpenings(rules: FirewallRules): string[] {
  const from = (networks: string[]) => (networks.length === 0 ? "nobody but the host" : networks.join(" "));
  return [
    `ssh port ${rules.sshPort} from ${from(rules.adminNetworks)}`,
    ...rules.services.map((s) => `${s.name} ${s.listen} ports ${portsText(s.ports)} from ${from(s.clients)}`),
    ...rules.guestBridges.map((bridge) => `dhcp and dns from the guests on ${bridge}`),
  ];
}
