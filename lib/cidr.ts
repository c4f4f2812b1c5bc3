import { isIP } from "node:net";

/** A client network as pg_hba.conf and a firewall read it: its base address, prefix length and family. */
export interface Cidr {
  address: string;
  prefix: number;
  family: 4 | 6;
}

/** The address as 4 or 16 bytes; node's isIP made sure it parses as `family`. */
function addressBytes(address: string, family: 4 | 6): number[] {
  if (family === 4) return address.split(".").map(Number);
  // An embedded IPv4 tail (::ffff:10.0.0.1) is two groups.
  const groups = (text: string) =>
    text === "" ? [] : text.split(":").flatMap((g) => (g.includes(".") ? hexPairs(g.split(".").map(Number)) : [parseInt(g, 16)]));
  const [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
  const first = groups(head);
  const last = tail === undefined ? [] : groups(tail);
  return [...first, ...Array<number>(8 - first.length - last.length).fill(0), ...last].flatMap((g) => [g >> 8, g & 0xff]);
}

const hexPairs = ([a, b, c, d]: number[]) => [(a << 8) | b, (c << 8) | d];

/**
 * `a.b.c.d/N` or `x:y::/N`, refused (a message saying why) without a prefix, with a bad address or
 * prefix, or with host bits set: `10.0.0.5/24` most likely means `10.0.0.0/24` or `10.0.0.5/32`,
 * and guessing either opens the wrong network.
 */
export function parseCidr(text: string): Cidr | { error: string } {
  const slash = text.indexOf("/");
  if (slash === -1) return { error: `"${text}" has no prefix length: write ADDRESS/N (e.g. /32 for one IPv4 host)` };
  const address = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const family = isIP(address) as 0 | 4 | 6;
  if (family === 0) return { error: `"${text}": "${address}" is not an IP address` };
  const max = family === 4 ? 32 : 128;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > max) {
    return { error: `"${text}": the prefix length must be a number from 0 to ${max}` };
  }
  const prefix = Number(prefixText);
  const bytes = addressBytes(address, family);
  const hostBitsSet = bytes.some((byte, i) => {
    const networkBits = Math.max(0, Math.min(8, prefix - i * 8));
    return (byte & (0xff >> networkBits)) !== 0;
  });
  if (hostBitsSet) return { error: `"${text}" has host bits set: give the network's first address, or a /${max} for one host` };
  return { address, prefix, family };
}

/** The same network however it is written (`2001:db8::/32` and `2001:0db8:0:0::/32`). */
export function cidrKey(cidr: Cidr): string {
  return `${cidr.family}:${addressBytes(cidr.address, cidr.family).join(".")}/${cidr.prefix}`;
}

/** One key per IP address however it is written (`2001:DB8:0:0:0:0:0:1` and `2001:db8::1`); the text itself when it is no address. */
export function ipKey(address: string): string {
  const family = isIP(address);
  return family === 0 ? address : `${family}:${addressBytes(address, family as 4 | 6).join(".")}`;
}

/** Whether `address` lies in `cidr` (same family, the first `prefix` bits equal). */
export function cidrContains(cidr: Cidr, address: string): boolean {
  if (isIP(address) !== cidr.family) return false;
  const [inside, base] = [addressBytes(address, cidr.family), addressBytes(cidr.address, cidr.family)];
  return base.every((byte, i) => {
    const bits = Math.max(0, Math.min(8, cidr.prefix - i * 8));
    const mask = (0xff << (8 - bits)) & 0xff;
    return (byte & mask) === (inside[i] & mask);
  });
}
