import { describe, expect, it } from "vitest";
import { cidrContains, parseCidr } from "../../lib/cidr";
import { causeLinks } from "../../verify/causes";
import { outsideCheckNames, plannedOutsideChecks, sourceDeclared } from "../../verify/checks/outside";
import type { HostExpectation } from "../../verify/manifest";
import { parseCliArgs } from "../../verify/cli";

const cidr = (text: string) => {
  const parsed = parseCidr(text);
  if ("error" in parsed) throw new Error(parsed.error);
  return parsed;
};

describe("verify --from-here", () => {
  it("tells an address inside a client network from one outside it, per family", () => {
    expect(cidrContains(cidr("10.20.0.0/16"), "10.20.255.1")).toBe(true);
    expect(cidrContains(cidr("10.20.0.0/16"), "10.21.0.1")).toBe(false);
    expect(cidrContains(cidr("10.20.30.0/23"), "10.20.31.9")).toBe(true);
    expect(cidrContains(cidr("10.20.30.0/23"), "10.20.32.0")).toBe(false);
    expect(cidrContains(cidr("0.0.0.0/0"), "192.0.2.1")).toBe(true);
    expect(cidrContains(cidr("2001:db8::/32"), "2001:db8:ffff::1")).toBe(true);
    expect(cidrContains(cidr("2001:db8::/32"), "2001:db9::1")).toBe(false);
    expect(cidrContains(cidr("10.0.0.0/8"), "2001:db8::1")).toBe(false);
  });

  it("declares the host's own address and the client networks, nothing else", () => {
    expect(sourceDeclared("198.51.100.21", "198.51.100.21", [])).toBe(true);
    expect(sourceDeclared("198.51.100.7", "198.51.100.21", [])).toBe(false);
    expect(sourceDeclared("198.51.100.7", "198.51.100.21", ["198.51.100.0/24"])).toBe(true);
    expect(sourceDeclared("2001:db8::1", "2001:0db8:0:0::1", [])).toBe(true);
  });

  it("plans three checks per Postgres instance and two per Redis one, each folded under the instance being active", () => {
    const host = {
      name: "h",
      tls: { caFile: "/etc/sparks/tls/ca.crt", certFile: "/etc/sparks/tls/current/server.crt", addresses: ["10.0.0.1"], verifyDays: 14 },
      sparkPg: { version: 15, listen: "10.0.0.1", clients: ["10.1.0.0/16"], instances: [{ name: "main" }] },
      redis: { listen: "10.0.0.1", clients: [], appendfsync: "everysec", save: "", maxmemory: 0, maxmemoryPolicy: "noeviction", instances: [{ name: "cache" }] },
      btrfsVolumes: [],
    } as unknown as HostExpectation;
    expect(plannedOutsideChecks(host).map((c) => c.name)).toEqual([
      "from here: spark-pg main: TLS with a certificate the host CA signed for 10.0.0.1",
      "from here: spark-pg main: the plain protocol is refused",
      "from here: spark-pg main: this client's address is let in only if declared",
      "from here: redis cache: TLS with a certificate the host CA signed for 10.0.0.1",
      "from here: redis cache: the plain protocol is refused",
    ]);
    const links = causeLinks(host);
    expect(links.get(outsideCheckNames.plain({ service: "redis", name: "cache", listen: "10.0.0.1" }))).toBe("redis cache: active");
    expect(links.get("from here: spark-pg main: this client's address is let in only if declared")).toBe("spark-pg main: active");
    expect(plannedOutsideChecks({ ...host, tls: undefined })).toEqual([]);
    // Redis cannot tell one client from another: only a host firewall makes its source checkable.
    const firewall = { generation: "0123456789abcdef", sshPort: 22, adminNetworks: ["10.9.0.0/16"], services: [], guestBridges: [] };
    expect(plannedOutsideChecks({ ...host, firewall }).map((c) => c.name)).toContain("from here: redis cache: this client's address is let in only if declared");
  });

  it("--source needs --from-here and an IP address", () => {
    expect(parseCliArgs(["--stack", "dev", "--from-here", "--source", "10.0.0.9"])).toMatchObject({ fromHere: true, source: "10.0.0.9" });
    expect(() => parseCliArgs(["--stack", "dev", "--source", "10.0.0.9"])).toThrow("--source is the address of --from-here's connections: pass --from-here too");
    expect(() => parseCliArgs(["--stack", "dev", "--from-here", "--source", "runner-1"])).toThrow('--source: "runner-1" is not an IP address');
  });
});
