import { describe, expect, it } from "vitest";
import { cidrKey, parseCidr } from "../../lib/cidr";

describe("parseCidr", () => {
  it.each([
    ["10.20.0.0/16", { address: "10.20.0.0", prefix: 16, family: 4 }],
    ["203.0.113.9/32", { address: "203.0.113.9", prefix: 32, family: 4 }],
    ["0.0.0.0/0", { address: "0.0.0.0", prefix: 0, family: 4 }],
    ["10.20.0.128/25", { address: "10.20.0.128", prefix: 25, family: 4 }],
    ["2001:db8::/32", { address: "2001:db8::", prefix: 32, family: 6 }],
    ["fd00:1:2:3::/64", { address: "fd00:1:2:3::", prefix: 64, family: 6 }],
    ["2001:db8::1/128", { address: "2001:db8::1", prefix: 128, family: 6 }],
    ["::ffff:10.0.0.0/104", { address: "::ffff:10.0.0.0", prefix: 104, family: 6 }],
  ])("accepts %s", (text, cidr) => {
    expect(parseCidr(text)).toEqual(cidr);
  });

  it.each([
    ["10.20.0.1", "has no prefix length"],
    ["10.20.0.1/24", "has host bits set"],
    ["10.20.0.0/-1", "prefix length must be a number from 0 to 32"],
    ["10.20.0.0/33", "from 0 to 32"],
    ["10.20.0.0/016", "from 0 to 32"],
    ["10.20.0.0/", "from 0 to 32"],
    ["10.20.0/16", "is not an IP address"],
    ["localhost/8", "is not an IP address"],
    ["2001:db8::1/64", "has host bits set"],
    ["2001:db8::/129", "from 0 to 128"],
    ["2001:db8:::/32", "is not an IP address"],
    ["fe80::/10%eth0", "prefix length"],
  ])("refuses %s", (text, message) => {
    const parsed = parseCidr(text);
    expect(parsed).toHaveProperty("error");
    expect((parsed as { error: string }).error).toContain(message);
  });

  it("gives one network one key, however it is written", () => {
    const key = (text: string) => cidrKey(parseCidr(text) as never);
    expect(key("2001:db8::/32")).toBe(key("2001:0db8:0:0::/32"));
    expect(key("10.0.0.0/8")).not.toBe(key("10.0.0.0/9"));
    expect(key("::ffff:10.0.0.0/104")).toBe(key("::ffff:a00:0/104"));
  });
});
