import { describe, expect, it } from "vitest";
import { aptProxyConfig, aptProxyPaths, guestAptProxyConf, mirrorPrefix } from "../../sandbox/apt-proxy";
import { sshdConfig } from "../../sandbox/guest-config";
import { chooseThird, MAX_INTERFACE_NAME, networkNames, nftRuleset, planNetwork, preferredThird, usedThirds } from "../../sandbox/network-plan";
import { knownHostsLine } from "../../sandbox/ssh-keys";

const ID = "be6e91dd";

describe("the sandbox's subnet", () => {
  it("is the id's preferred 10.213.X.0/24 when the machine uses none of it", () => {
    const n = planNetwork(ID, new Set());
    const third = preferredThird(ID);
    expect(third).toBeGreaterThanOrEqual(1);
    expect(third).toBeLessThanOrEqual(254);
    expect(n).toMatchObject({ machineAddress: `10.213.${third}.1`, containerAddress: `10.213.${third}.2`, prefixLength: 24 });
  });

  it("skips an X the machine already has an address in or a route to, wrapping after 254", () => {
    expect(chooseThird(7, new Set([7, 8]))).toBe(9);
    expect(chooseThird(254, new Set([254]))).toBe(1);
    expect(planNetwork(ID, new Set([preferredThird(ID)])).containerAddress).not.toBe(`10.213.${preferredThird(ID)}.2`);
  });

  it("refuses when every X is taken, naming the range", () => {
    const all = new Set(Array.from({ length: 254 }, (_, i) => i + 1));
    expect(() => chooseThird(1, all)).toThrow("every 10.213.X.0/24 (X = 1..254) is already routed or assigned on this machine");
  });

  it("counts another sandbox's /24, a host route inside one and a wider route over several, but not the default route or other networks", () => {
    expect([...usedThirds(["10.213.5.0/24", "10.213.9.7/32", "192.0.2.0/24", "0.0.0.0/0"])].sort((a, b) => a - b)).toEqual([5, 9]);
    expect(usedThirds(["10.213.16.0/22"])).toEqual(new Set([16, 17, 18, 19]));
    expect(usedThirds(["10.0.0.0/8"]).size).toBe(254);
    expect(usedThirds(["fd00::/64", "not a network"]).size).toBe(0);
  });
});

describe("the sandbox's network names", () => {
  it("fit Linux's 15-character interface names and name the namespace, veth and table after the id", () => {
    const names = networkNames(ID);
    expect(names).toEqual({ namespace: "sparks-be6e91dd", machineInterface: "sphbe6e91dd", nftTable: "sparks_sandbox_be6e91dd" });
    expect(names.machineInterface.length).toBeLessThanOrEqual(MAX_INTERFACE_NAME);
    expect(() => networkNames("0123456789abcdef")).toThrow("longer than 15 characters");
  });
});

describe("the machine's firewall against the container", () => {
  const n = planNetwork(ID, new Set([preferredThird(ID)]));
  const ruleset = nftRuleset(n);

  it("replaces only its own table, never the ruleset", () => {
    expect(ruleset.split("\n").slice(0, 3)).toEqual([`table inet ${n.nftTable}`, `delete table inet ${n.nftTable}`, `table inet ${n.nftTable} {`]);
    expect(ruleset).not.toMatch(/flush/);
    expect(ruleset.match(/^table /gm)).toHaveLength(2);
  });

  it("lets in from the veth only replies, ping, the proxy and the test ports on the machine's veth address, then drops", () => {
    const input = ruleset.slice(ruleset.indexOf("chain input"), ruleset.indexOf("chain forward"));
    const rules = input.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("iifname"));
    const from = `iifname "${n.machineInterface}"`;
    expect(rules).toEqual([
      `${from} ct state established,related accept`,
      `${from} ip daddr ${n.machineAddress} ip protocol icmp accept`,
      `${from} ip daddr ${n.machineAddress} tcp dport 3142 accept`,
      `${from} ip daddr ${n.machineAddress} tcp dport 18000-18099 accept`,
      `${from} drop`,
    ]);
  });

  it("forwards nothing to or from the veth", () => {
    const forward = ruleset.slice(ruleset.indexOf("chain forward"));
    expect(forward).toContain(`iifname "${n.machineInterface}" drop`);
    expect(forward).toContain(`oifname "${n.machineInterface}" drop`);
    expect(forward).not.toContain("accept\n");
  });
});

describe("the sandbox's apt proxy", () => {
  const paths = aptProxyPaths("/srv/state");
  const config = aptProxyConfig(paths, "10.213.7.1", ["http://deb.debian.org/debian", "http://deb.debian.org/debian-security/"]);

  it("keeps its cache, logs and socket in the state dir and listens on the veth address alone", () => {
    expect(config).toContain("CacheDir: /srv/state/apt-proxy/cache\n");
    expect(config).toContain("LogDir: /srv/state/apt-proxy/log\n");
    expect(config).toContain("SocketPath: /srv/state/apt-proxy/log/socket\n");
    expect(config).toContain("BindAddress: 10.213.7.1\nPort: 3142\n");
    expect(config).toContain("ForeGround: 1\n");
  });

  it("serves the machine's mirrors only: any other URL and any CONNECT refused", () => {
    expect(config).toContain("ForceManaged: 1\n");
    expect(config).toContain("PassThroughPattern: ^$\n");
    expect(config.match(/^Remap-.*$/gm)).toEqual([
      "Remap-mirror0: deb.debian.org/debian ; http://deb.debian.org/debian/",
      "Remap-mirror1: deb.debian.org/debian-security ; http://deb.debian.org/debian-security/",
    ]);
    expect(config).not.toMatch(/LocalDirs|ReportPage/);
  });

  it("is what the container's apt uses, its sources as http whatever the mirror's scheme", () => {
    expect(guestAptProxyConf("10.213.7.1")).toBe('Acquire::http::Proxy "http://10.213.7.1:3142";\n');
    expect(mirrorPrefix("https://mirror.example.org/debian/")).toBe("mirror.example.org/debian");
  });
});

describe("ssh to the sandbox", () => {
  it("sshd listens on the container's address, port 22, explicitly", () => {
    expect(sshdConfig("10.213.7.2", 22)).toContain("\nListenAddress 10.213.7.2:22\n");
  });

  it("known_hosts names a port-22 host bare, as OpenSSH looks it up, and any other port in brackets", () => {
    expect(knownHostsLine("10.213.7.2", 22, "ssh-ed25519 AAAA")).toBe("10.213.7.2 ssh-ed25519 AAAA\n");
    expect(knownHostsLine("127.0.0.1", 2222, "ssh-ed25519 AAAA")).toBe("[127.0.0.1]:2222 ssh-ed25519 AAAA\n");
  });
});
