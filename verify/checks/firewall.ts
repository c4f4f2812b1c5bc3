import { isIP } from "node:net";
import { firewallSets, portsText } from "../../components/firewall-rules";
import { command } from "../../lib/shell-quote";
import type { FirewallExpectation, FirewallServiceExpectation } from "../manifest";
import type { CheckResult, Exec, PlannedCheck } from "../types";
import { networkKeys, parseLoadedFirewall, ruleAddress, ruleSignature, type LoadedFirewall } from "./firewall-ruleset";
import { commandError, fail, pass } from "./result";

const networksText = (networks: string[]) => (networks.length === 0 ? "nobody but the host itself" : networks.join(", "));

export const firewallCheckNames = {
  table: "firewall: table inet sparks drops inbound traffic it does not let in",
  ssh: (fw: FirewallExpectation) => `firewall: SSH port ${fw.sshPort} open to ${networksText(fw.adminNetworks)}`,
  service: (s: FirewallServiceExpectation) => `firewall: ${s.name} ports ${portsText(s.ports)} on ${s.listen} open to ${networksText(s.clients)}`,
  nothingElse: "firewall: lets in nothing else",
  confirmed: (fw: FirewallExpectation) => `firewall: rules ${fw.generation} loaded, confirmed, and loaded at boot`,
};

export interface FirewallCheckOptions {
  /** Read the table and the confirmed rules through `sudo -n`. Default false. */
  sudo?: boolean;
}

const ip = (address: string) => (isIP(address) === 6 ? "ip6" : "ip");

const baseRules: Record<string, string>[] = [
  { iif: "lo" },
  { "ct state": "{established,related}" },
  { l4proto: "{1,58}" },
  { "udp sport": "67", "udp dport": "68" },
  { nfproto: "ipv6", "udp dport": "546" },
];

const sshRules = (fw: FirewallExpectation) => [
  ruleSignature({ "tcp dport": String(fw.sshPort), "ip saddr": `@${firewallSets.admin(4)}` }),
  ruleSignature({ "tcp dport": String(fw.sshPort), "ip6 saddr": `@${firewallSets.admin(6)}` }),
];

const serviceRule = (s: FirewallServiceExpectation) =>
  ruleSignature({ [`${ip(s.listen)} daddr`]: ruleAddress(s.listen), "tcp dport": portsText(s.ports), [`${ip(s.listen)} saddr`]: `@${firewallSets.clients(s.name)}` });

const bridgeRules = (bridge: string) => [ruleSignature({ iifname: bridge, "udp dport": "{53,67}" }), ruleSignature({ iifname: bridge, "tcp dport": "53" })];

/** Every accepting rule the declared firewall has, as signatures. */
function declaredRules(fw: FirewallExpectation): string[] {
  return [...baseRules.map((rule) => ruleSignature(rule)), ...sshRules(fw), ...fw.services.map(serviceRule), ...fw.guestBridges.flatMap(bridgeRules)];
}

/** Every check `checkFirewall` reports, in order, with what each expects. */
export function plannedFirewallChecks(fw: FirewallExpectation): PlannedCheck[] {
  const n = firewallCheckNames;
  return [
    { name: n.table, expected: "input chain, policy drop" },
    { name: n.ssh(fw), expected: networksText(fw.adminNetworks) },
    ...fw.services.map((s) => ({ name: n.service(s), expected: networksText(s.clients) })),
    { name: n.nothingElse, expected: "no accepting rule beyond the declared ones" },
    { name: n.confirmed(fw), expected: `loaded ${fw.generation}, confirmed ${fw.generation}, boot unit enabled, no revert pending` },
  ];
}

/** A set holds exactly the declared networks; the rule that reads it is there. */
function setCheck(loaded: LoadedFirewall, name: string, expected: string[], sets: string[], rules: string[]): CheckResult {
  const found = sets.flatMap((set) => loaded.sets.get(set) ?? []);
  const missingSet = sets.find((set) => !loaded.sets.has(set));
  if (missingSet !== undefined) return fail(name, networksText(expected), `no set ${missingSet}`);
  const missingRule = rules.find((rule) => !loaded.acceptRules.includes(rule));
  if (missingRule !== undefined) return fail(name, networksText(expected), `no rule accepting ${missingRule}`);
  if (networkKeys(found) !== networkKeys(expected)) return fail(name, networksText(expected), networksText(found));
  return pass(name, networksText(found));
}

/** Reads the loaded table, which rules are confirmed, the boot unit and a pending revert, and holds them against the declaration. */
export async function checkFirewall(exec: Exec, fw: FirewallExpectation, options: FirewallCheckOptions = {}): Promise<CheckResult[]> {
  const sudo = options.sudo ? ["sudo", "-n"] : [];
  const generation = String.raw`s/^[[:space:]]*comment "sparks-firewall \([0-9a-f]*\)"$/\1/p`;
  const state = [
    `printf 'loaded=%s\\n' "$(nft list table inet sparks 2>/dev/null | sed -n '${generation}')"`,
    `printf 'confirmed=%s\\n' "$(sed -n '${generation}' /etc/sparks/firewall/confirmed.nft 2>/dev/null)"`,
    `printf 'boot=%s\\n' "$(systemctl is-enabled sparks-firewall.service 2>/dev/null)"`,
    `printf 'revert=%s\\n' "$(systemctl is-active sparks-firewall-revert.timer 2>/dev/null)"`,
  ].join("; ");
  const [listing, status] = await Promise.all([exec(command(...sudo, "nft", "-j", "list", "table", "inet", "sparks")), exec(command(...sudo, "sh", "-c", state))]);
  const n = firewallCheckNames;
  const planned = plannedFirewallChecks(fw);
  const confirmedCheck = confirmation(fw, status.stdout);
  let loaded: LoadedFirewall;
  try {
    if (listing.code !== 0) throw new Error(/No such file/.test(listing.stderr) ? "table inet sparks is not loaded" : commandError(listing));
    loaded = parseLoadedFirewall(listing.stdout);
  } catch (error) {
    return [...planned.slice(0, -1).map((c) => fail(c.name, c.expected, (error as Error).message)), confirmedCheck];
  }
  const table =
    loaded.input?.hook === "input" && loaded.input.policy === "drop"
      ? pass(n.table, "input chain, policy drop")
      : fail(n.table, "input chain, policy drop", loaded.input ? `input chain, hook ${loaded.input.hook}, policy ${loaded.input.policy}` : "no input chain");
  const ssh = setCheck(loaded, n.ssh(fw), fw.adminNetworks, [firewallSets.admin(4), firewallSets.admin(6)], sshRules(fw));
  const services = fw.services.map((s) => setCheck(loaded, n.service(s), s.clients, [firewallSets.clients(s.name)], [serviceRule(s)]));
  const declared = declaredRules(fw);
  const extra = loaded.acceptRules.filter((rule) => !declared.includes(rule));
  const nothingElse =
    extra.length === 0 ? pass(n.nothingElse, `${loaded.acceptRules.length} accepting rules, all declared`) : fail(n.nothingElse, "no accepting rule beyond the declared ones", extra.join(" | "), "a rule added by hand: the next deploy's rules replace the table");
  return [table, ssh, ...services, nothingElse, confirmedCheck];
}

function confirmation(fw: FirewallExpectation, stdout: string): CheckResult {
  const value = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(stdout)?.[1] ?? "";
  const [loaded, confirmed, boot, revert] = [value("loaded"), value("confirmed"), value("boot"), value("revert")];
  const found = `loaded ${loaded || "none"}, confirmed ${confirmed || "none"}, boot unit ${boot || "missing"}, revert ${revert === "active" ? "pending" : "none"}`;
  const expected = plannedFirewallChecks(fw).at(-1)!.expected;
  const ok = loaded === fw.generation && confirmed === fw.generation && boot === "enabled" && revert !== "active";
  return ok ? pass(firewallCheckNames.confirmed(fw), found) : fail(firewallCheckNames.confirmed(fw), expected, found);
}
