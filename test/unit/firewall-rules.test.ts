import { describe, expect, it } from "vitest";
import { firewallGeneration, firewallOpenings, renderFirewallRules, type FirewallRules } from "../../components/firewall-rules";
import { SAMPLE_RULES } from "./fixtures/firewall-rules";

const RULES: FirewallRules = { ...SAMPLE_RULES, sshPort: 2222 };

const inputRules = (text: string) => text.slice(text.indexOf("chain input")).split("\n").map((l) => l.trim());

describe("firewall rules (nftables)", () => {
  it("replaces only the sparks table, in one transaction that works whether or not it exists", () => {
    const text = renderFirewallRules(RULES);
    expect(text.split("\n").slice(0, 3)).toEqual(["table inet sparks", "delete table inet sparks", "table inet sparks {"]);
    expect(text).not.toMatch(/flush ruleset|table (ip|ip6|inet) (?!sparks)/);
  });

  it("drops by default and accepts loopback, replies, ICMP and DHCP replies before anything declared", () => {
    const rules = inputRules(renderFirewallRules(RULES));
    expect(rules.slice(0, 9)).toEqual([
      "chain input {",
      "type filter hook input priority filter; policy drop;",
      'iif "lo" accept',
      "ct state established,related accept",
      "ct state invalid drop",
      "meta l4proto { icmp, icmpv6 } accept",
      "udp sport 67 udp dport 68 accept",
      "meta nfproto ipv6 udp dport 546 accept",
      "tcp dport 2222 ip saddr @ssh_admin_ipv4 accept",
    ]);
  });

  it("opens SSH to the admin networks of each family, a /32 written as the address nft lists", () => {
    const text = renderFirewallRules(RULES);
    expect(text).toContain("set ssh_admin_ipv4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 203.0.113.0/24, 198.51.100.7 }\n\t}");
    expect(text).toContain("set ssh_admin_ipv6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t\telements = { 2001:db8:1::/48 }\n\t}");
    expect(text).toContain("tcp dport 2222 ip6 saddr @ssh_admin_ipv6 accept");
  });

  it("opens each pool only on its listen address and only to its clients; no clients, an empty set", () => {
    const text = renderFirewallRules(RULES);
    expect(text).toContain("ip daddr 10.20.0.5 tcp dport 15432-15499 ip saddr @spark_pg_clients accept");
    expect(text).toContain("elements = { 10.20.0.0/16, 10.30.1.9 }");
    expect(text).toContain("ip6 daddr 2001:db8::5 tcp dport 16379 ip6 saddr @redis_clients accept");
    expect(text).toContain("set redis_clients {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t}");
  });

  it("lets the NAT guests ask the host for DHCP and DNS, nothing more", () => {
    const rules = inputRules(renderFirewallRules(RULES)).filter((l) => l.includes("virbr-sparks"));
    expect(rules).toEqual(['iifname "virbr-sparks" udp dport { 53, 67 } accept', 'iifname "virbr-sparks" tcp dport 53 accept']);
  });

  it("names its generation in the table: the same for the same rules, another when any opening changes", () => {
    const generation = firewallGeneration(RULES);
    expect(generation).toMatch(/^[0-9a-f]{16}$/);
    expect(renderFirewallRules(RULES)).toContain(`comment "sparks-firewall ${generation}"`);
    expect(firewallGeneration(structuredClone(RULES))).toBe(generation);
    const moreClients = structuredClone(RULES);
    moreClients.services[0].clients.push("10.40.0.0/16");
    expect(firewallGeneration(moreClients)).not.toBe(generation);
    expect(firewallGeneration({ ...RULES, sshPort: 22 })).not.toBe(generation);
  });

  it("says what it opens in words, for the plan", () => {
    expect(firewallOpenings(RULES)).toEqual([
      "ssh port 2222 from 203.0.113.0/24 2001:db8:1::/48 198.51.100.7/32",
      "spark-pg 10.20.0.5 ports 15432-15499 from 10.20.0.0/16 10.30.1.9/32",
      "redis 2001:db8::5 ports 16379 from nobody but the host",
      "dhcp and dns from the guests on virbr-sparks",
    ]);
  });
});
