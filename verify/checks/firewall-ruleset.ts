import { isIP } from "node:net";
import { cidrKey, ipKey, parseCidr } from "../../lib/cidr";

/** The parts of `nft -j list table inet sparks` the checks read. */
export interface LoadedFirewall {
  /** The input chain's hook and policy, when the chain is there. */
  input?: { hook?: string; policy?: string };
  /** Each set's elements, as networks (`a.b.c.d/N`); anything else (a range) as nft wrote it. */
  sets: Map<string, string[]>;
  /** Each rule of the input chain that accepts, as its matches (ruleSignature). */
  acceptRules: string[];
}

type Json = any;

function elementText(elem: Json): string {
  if (typeof elem === "string") return elem.includes(":") ? `${elem}/128` : `${elem}/32`;
  if (elem?.prefix) return `${elem.prefix.addr}/${elem.prefix.len}`;
  return JSON.stringify(elem);
}

function valueText(value: Json): string {
  if (Array.isArray(value)) return `{${value.map(valueText).join(",")}}`;
  if (value?.range) return `${value.range[0]}-${value.range[1]}`;
  if (value?.set) return `{${(value.set as Json[]).map(valueText).join(",")}}`;
  if (typeof value === "string" && isIP(value) === 6) return ipKey(value);
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** nft lists a protocol by its /etc/protocols name, or by number on a host without that file. */
const PROTOCOL_NUMBERS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17, "ipv6-icmp": 58, icmpv6: 58 };
const protocolNumbers = (value: Json): Json =>
  Array.isArray(value) ? value.map(protocolNumbers) : value?.set ? { set: protocolNumbers(value.set) } : (PROTOCOL_NUMBERS[value] ?? value);

function leftText(left: Json): string {
  if (left?.payload) return `${left.payload.protocol} ${left.payload.field}`;
  if (left?.meta) return left.meta.key;
  if (left?.ct) return `ct ${left.ct.key}`;
  return JSON.stringify(left);
}

/** Reads nft's JSON listing of our table; throws on text that is not that. */
export function parseLoadedFirewall(text: string): LoadedFirewall {
  const items: Json[] = JSON.parse(text).nftables ?? [];
  const loaded: LoadedFirewall = { sets: new Map(), acceptRules: [] };
  for (const item of items) {
    if (item.set) loaded.sets.set(item.set.name, ((item.set.elem ?? []) as Json[]).map(elementText));
    if (item.chain?.name === "input") loaded.input = { hook: item.chain.hook, policy: item.chain.policy };
    if (item.rule?.chain === "input") {
      const expr: Json[] = item.rule.expr ?? [];
      if (!expr.some((e) => "accept" in e)) continue;
      const matches = expr.filter((e) => e.match).map((e) => [leftText(e.match.left), e.match.right] as const);
      loaded.acceptRules.push(ruleSignature(Object.fromEntries(matches.map(([left, right]) => [left, valueText(left === "l4proto" ? protocolNumbers(right) : right)]))));
    }
  }
  return loaded;
}

/** One key per network however written, so a set and a config compare as sets of networks. */
export function networkKeys(networks: string[]): string {
  return [...new Set(networks.map((n) => {
    const cidr = parseCidr(n);
    return "error" in cidr ? n : cidrKey(cidr);
  }))]
    .sort()
    .join(" ");
}

/** An address as a rule signature holds it: IPv6 however written. */
export const ruleAddress = (address: string) => (isIP(address) === 6 ? ipKey(address) : address);

/** A rule as its matches, `left=right` in a fixed order: the same rule however nft ordered it. */
export function ruleSignature(matches: Record<string, string>): string {
  return Object.entries(matches)
    .map(([left, right]) => `${left}=${right}`)
    .sort()
    .join("; ");
}
