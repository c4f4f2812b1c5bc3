import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { toDottedPath } from "../../lib/schema-errors";
import { fleetConfigErrors } from "../../stacks/fleet";
import { ConfigValidationError, stackConfigErrors } from "../../stacks/validate";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGalMW02EhxsccJwMhKX2F6Avhwvj4VM0HeEsoKqxwY0";

function validHost(): any {
  return {
    name: "dev-1",
    ssh: { address: "203.0.113.10", hostKey: HOST_KEY },
    btrfs: {
      volumes: [
        {
          name: "data",
          device: "/dev/vdb",
          label: "sparks-data",
          mountpoint: "/srv/sparks",
          subvolumes: [{ name: "pg", mode: "0750", limit: "2G" }],
        },
      ],
    },
  };
}

function withSparkPg(edit: (pg: any, host: any) => void): unknown {
  return withHost((h) => {
    h.sparkPg = {
      version: 15,
      volume: "data",
      subvolume: "pg",
      listen: "127.0.0.1",
      ports: { from: 25500, to: 25519 },
      instances: [{ name: "main" }, { name: "fixtures", forkOf: "main" }],
    };
    edit(h.sparkPg, h);
  });
}

function withHost(edit: (host: any) => void): unknown {
  const host = validHost();
  edit(host);
  return { hosts: [host] };
}

const stackFile = (stack: string) =>
  (parse(readFileSync(path.join(__dirname, "../..", `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> }).config;

describe("stack config validation", () => {
  it.each(["dev", "prod", "sandbox"])("accepts the committed %s stack", (stack) => {
    const config = Object.fromEntries(Object.entries(stackFile(stack)).map(([key, value]) => [key.replace(/^sparks:/, ""), value]));
    expect(fleetConfigErrors(config).errors).toEqual([]);
  });

  it.each([
    ["an unknown top-level key", { hosts: [validHost()], hostz: [] }, "hostz", "unknown key"],
    ["no hosts at all", {}, "hosts", "is required"],
    ["an empty host list", { hosts: [] }, "hosts", "must NOT have fewer than 1 items"],
    ["an unknown host key", withHost((h) => (h.extra = 1)), "hosts[0].extra", "unknown key"],
    ["a host name with a space", withHost((h) => (h.name = "dev 1")), "hosts[0].name", "must match"],
    ["a host name with command substitution", withHost((h) => (h.name = "$(reboot)")), "hosts[0].name", "must match"],
    ["an address with a semicolon", withHost((h) => (h.ssh.address = "203.0.113.1;reboot")), "hosts[0].ssh.address", "must match"],
    ["a port out of range", withHost((h) => (h.ssh.port = 70000)), "hosts[0].ssh.port", "must be <= 65535"],
    ["a port that is a string", withHost((h) => (h.ssh.port = "22")), "hosts[0].ssh.port", "must be integer"],
    ["an RSA host key", withHost((h) => (h.ssh.hostKey = "ssh-rsa AAAAB3NzaC1yc2E")), "hosts[0].ssh.hostKey", "must match"],
    ["no pinned host key", withHost((h) => delete h.ssh.hostKey), "hosts[0].ssh.hostKey", "is required"],
    ["no address", withHost((h) => delete h.ssh.address), "hosts[0].ssh.address", "is required"],
    ["a sandbox host with an address", withHost((h) => (h.ssh = { sandbox: true, address: "127.0.0.1" })), "hosts[0].ssh.address", "must not be set"],
    ["a package name with a space", withHost((h) => (h.packages = ["htop vim"])), "hosts[0].packages[0]", "must match"],
    ["a device outside /dev", withHost((h) => (h.btrfs.volumes[0].device = "/etc/passwd")), "hosts[0].btrfs.volumes[0].device", "must match"],
    ["a device with backticks", withHost((h) => (h.btrfs.volumes[0].device = "/dev/`reboot`")), "hosts[0].btrfs.volumes[0].device", "must match"],
    ["a relative mountpoint", withHost((h) => (h.btrfs.volumes[0].mountpoint = "srv/sparks")), "hosts[0].btrfs.volumes[0].mountpoint", "must match"],
    ["a mountpoint with ..", withHost((h) => (h.btrfs.volumes[0].mountpoint = "/srv/../etc")), "hosts[0].btrfs.volumes[0].mountpoint", "must match"],
    ["a missing device", withHost((h) => delete h.btrfs.volumes[0].device), "hosts[0].btrfs.volumes[0].device", "is required"],
    ["a label with a quote", withHost((h) => (h.btrfs.volumes[0].label = "a'b")), "hosts[0].btrfs.volumes[0].label", "must match"],
    ["a mount option with a space", withHost((h) => (h.btrfs.volumes[0].mountOptions = ["noatime ro"])), "hosts[0].btrfs.volumes[0].mountOptions[0]", "must match"],
    ["protect as a string", withHost((h) => (h.btrfs.volumes[0].protect = "yes")), "hosts[0].btrfs.volumes[0].protect", "must be boolean"],
    ["a subvolume name with a slash", withHost((h) => (h.btrfs.volumes[0].subvolumes[0].name = "pg/main")), "hosts[0].btrfs.volumes[0].subvolumes[0].name", "must match"],
    ["a mode that is not octal", withHost((h) => (h.btrfs.volumes[0].subvolumes[0].mode = "0789")), "hosts[0].btrfs.volumes[0].subvolumes[0].mode", "must match"],
    ["a limit with a bad unit", withHost((h) => (h.btrfs.volumes[0].subvolumes[0].limit = "2GB")), "hosts[0].btrfs.volumes[0].subvolumes[0].limit", "must match"],
    ["an owner with a semicolon", withHost((h) => (h.btrfs.volumes[0].subvolumes[0].owner = "root;id")), "hosts[0].btrfs.volumes[0].subvolumes[0].owner", "must match"],
    ["an unknown subvolume key", withHost((h) => (h.btrfs.volumes[0].subvolumes[0].size = "1G")), "hosts[0].btrfs.volumes[0].subvolumes[0].size", "unknown key"],
    ["two hosts with one name", { hosts: [validHost(), validHost()] }, "hosts[1].name", 'duplicate host name "dev-1"'],
    ["a host key written without a value", withHost((h) => (h.ssh.hostKey = null)), "hosts[0].ssh.hostKey", "has no value"],
    ["an address written without a value", withHost((h) => (h.ssh.address = null)), "hosts[0].ssh.address", "has no value"],
    ["a limit written without a value", withHost((h) => (h.btrfs.volumes[0].subvolumes[0].limit = null)), "hosts[0].btrfs.volumes[0].subvolumes[0].limit", "has no value"],
    ["a login user other than root", withHost((h) => (h.ssh.user = "deploy")), "hosts[0].ssh.user", "must be one of: root"],
    ["a mount option the kernel does not show", withHost((h) => (h.btrfs.volumes[0].mountOptions = ["nofail"])), "hosts[0].btrfs.volumes[0].mountOptions[0]", "must match"],
    ["a zstd level above 15", withHost((h) => (h.btrfs.volumes[0].mountOptions = ["compress=zstd:20"])), "hosts[0].btrfs.volumes[0].mountOptions[0]", "must match"],
    ["an lzo level, which the kernel drops", withHost((h) => (h.btrfs.volumes[0].mountOptions = ["compress=lzo:5"])), "hosts[0].btrfs.volumes[0].mountOptions[0]", "must match"],
    ["a commit interval with a leading zero", withHost((h) => (h.btrfs.volumes[0].mountOptions = ["commit=030"])), "hosts[0].btrfs.volumes[0].mountOptions[0]", "must match"],
    ["noatime with relatime", withHost((h) => (h.btrfs.volumes[0].mountOptions = ["noatime", "relatime"])), "hosts[0].btrfs.volumes[0].mountOptions", '"noatime" and "relatime" contradict'],
    ["compression with nodatacow", withHost((h) => (h.btrfs.volumes[0].mountOptions = ["compress=zstd", "nodatacow"])), "hosts[0].btrfs.volumes[0].mountOptions", "contradict each other"],
    ["a volume mounted over /etc", withHost((h) => (h.btrfs.volumes[0].mountpoint = "/etc")), "hosts[0].btrfs.volumes[0].mountpoint", "system directory /etc"],
    ["a volume mounted inside /usr", withHost((h) => (h.btrfs.volumes[0].mountpoint = "/usr/local/data")), "hosts[0].btrfs.volumes[0].mountpoint", "system directory /usr"],
    [
      "host and volume names that join into the same resource name",
      {
        hosts: [
          { ...validHost(), name: "a-b", btrfs: { volumes: [{ ...validHost().btrfs.volumes[0], name: "c" }] } },
          { ...validHost(), name: "a", btrfs: { volumes: [{ ...validHost().btrfs.volumes[0], name: "b-c" }] } },
        ],
      },
      "hosts[1].btrfs.volumes[0].name",
      'makes the resource name "a-b-c" a second time',
    ],
    [
      "two volumes on one device",
      withHost((h) => h.btrfs.volumes.push({ ...h.btrfs.volumes[0], name: "more", label: "more", mountpoint: "/srv/more" })),
      "hosts[0].btrfs.volumes[1].device",
      'duplicate device "/dev/vdb"',
    ],
    [
      "a volume mounted inside another",
      withHost((h) => h.btrfs.volumes.push({ name: "more", device: "/dev/vdc", label: "more", mountpoint: "/srv/sparks/more" })),
      "hosts[0].btrfs.volumes[1].mountpoint",
      'is inside volume "data"',
    ],
    [
      "two subvolumes with one name",
      withHost((h) => h.btrfs.volumes[0].subvolumes.push({ name: "pg" })),
      "hosts[0].btrfs.volumes[0].subvolumes[1].name",
      'duplicate subvolume name "pg"',
    ],
    ["a spark-pg version Debian does not ship", withSparkPg((pg) => (pg.version = 16)), "hosts[0].sparkPg.version", "must be one of: 15"],
    ["a spark-pg listen address that is a name", withSparkPg((pg) => (pg.listen = "localhost")), "hosts[0].sparkPg.listen", "must match"],
    ["a spark-pg listen address with two addresses", withSparkPg((pg) => (pg.listen = "127.0.0.1,10.0.0.1")), "hosts[0].sparkPg.listen", "must match"],
    ["a spark-pg port below 1024", withSparkPg((pg) => (pg.ports.from = 80)), "hosts[0].sparkPg.ports.from", "must be >= 1024"],
    ["an unknown spark-pg key", withSparkPg((pg) => (pg.root = "/srv")), "hosts[0].sparkPg.root", "unknown key"],
    ["a spark-pg instance name with a dot", withSparkPg((pg) => (pg.instances[0].name = "main.db")), "hosts[0].sparkPg.instances[0].name", "must match"],
    ["spark-pg on an unknown volume", withSparkPg((pg) => (pg.volume = "fast")), "hosts[0].sparkPg.volume", 'names no btrfs volume of this host ("fast")'],
    ["spark-pg on an undeclared subvolume", withSparkPg((pg) => (pg.subvolume = "postgres")), "hosts[0].sparkPg.subvolume", 'names no subvolume of volume "data" ("postgres")'],
    ["a fork of an unknown instance", withSparkPg((pg) => (pg.instances[1].forkOf = "mian")), "hosts[0].sparkPg.instances[1].forkOf", 'names no instance of this host ("mian")'],
    ["a fork declared before its source", withSparkPg((pg) => pg.instances.reverse()), "hosts[0].sparkPg.instances[0].forkOf", '"main" must be declared before'],
    ["an instance forked from itself", withSparkPg((pg) => (pg.instances[0].forkOf = "main")), "hosts[0].sparkPg.instances[0].forkOf", "must be declared before"],
    ["two instances with one name", withSparkPg((pg) => pg.instances.push({ name: "main" })), "hosts[0].sparkPg.instances[2].name", 'duplicate instance name "main"'],
    ["an instance named postgres", withSparkPg((pg) => (pg.instances[0].name = "postgres")), "hosts[0].sparkPg.instances[0].name", "reserved by Postgres"],
    ["a port range that runs backwards", withSparkPg((pg) => (pg.ports = { from: 25519, to: 25500 })), "hosts[0].sparkPg.ports", "from (25519) is greater than to (25500)"],
    ["a port pool smaller than the instances", withSparkPg((pg) => (pg.ports = { from: 25500, to: 25500 })), "hosts[0].sparkPg.ports", "holds 1 ports for 2 instances"],
    ["a package apt would read as a removal", withHost((h) => (h.packages = ["openssh-server-"])), "hosts[0].packages[0]", "must match"],
    ["a volume mounted over /var, hiding dpkg's database", withHost((h) => (h.btrfs.volumes[0].mountpoint = "/var")), "hosts[0].btrfs.volumes[0].mountpoint", "holds the system directory /var/lib/dpkg"],
    ["a volume mounted over /var/lib", withHost((h) => (h.btrfs.volumes[0].mountpoint = "/var/lib")), "hosts[0].btrfs.volumes[0].mountpoint", "holds the system directory /var/lib/dpkg"],
    ["a volume mounted over the ownership claims", withHost((h) => (h.btrfs.volumes[0].mountpoint = "/var/lib/sparks")), "hosts[0].btrfs.volumes[0].mountpoint", "system directory /var/lib/sparks"],
    ["a spark-pg listen address of colons only", withSparkPg((pg) => (pg.listen = ":::::")), "hosts[0].sparkPg.listen", '":::::" is not an IP address'],
    ["a spark-pg listen address with two ::", withSparkPg((pg) => (pg.listen = "1::2::3")), "hosts[0].sparkPg.listen", "is not an IP address"],
    ["a spark-pg wildcard listen address (IPv4)", withSparkPg((pg) => (pg.listen = "0.0.0.0")), "hosts[0].sparkPg.listen", '"0.0.0.0" is a wildcard'],
    ["a spark-pg wildcard listen address (IPv6)", withSparkPg((pg) => (pg.listen = "::")), "hosts[0].sparkPg.listen", '"::" is a wildcard'],
    ["a spark-pg wildcard listen address (IPv6, written out)", withSparkPg((pg) => (pg.listen = "0:0:0:0:0:0:0:0")), "hosts[0].sparkPg.listen", "is a wildcard"],
    [
      "redis on spark-pg's subvolume",
      withSparkPg((_pg, h) => (h.redis = { volume: "data", subvolume: "pg", listen: "127.0.0.1", ports: { from: 26300, to: 26319 }, instances: [] })),
      "hosts[0].redis.subvolume",
      "is also the subvolume of sparkPg (data/pg): each service needs its own",
    ],
    [
      "a redis wildcard listen address",
      withHost((h) => {
        h.btrfs.volumes[0].subvolumes.push({ name: "redis", mode: "0755" });
        h.redis = { volume: "data", subvolume: "redis", listen: "::", ports: { from: 26300, to: 26319 }, instances: [] };
      }),
      "hosts[0].redis.listen",
      '"::" is a wildcard',
    ],
    ["a fork limit on a subvolume without quotas", withSparkPg((pg, h) => { pg.forkLimit = "1G"; delete h.btrfs.volumes[0].subvolumes[0].limit; }), "hosts[0].sparkPg.forkLimit", 'needs btrfs quotas: give subvolume "pg" a limit too'],
    ["a fork limit that is not a size", withSparkPg((pg) => (pg.forkLimit = "1GB")), "hosts[0].sparkPg.forkLimit", "must match"],
    ["a protected instance on an unprotected volume", withSparkPg((pg) => (pg.instances[0].protect = true)), "hosts[0].sparkPg.instances[0].protect", 'needs volume "data" protected too'],
    ["a client network without a prefix", withSparkPg((pg) => (pg.clients = ["10.20.0.0/16", "10.30.0.7"])), "hosts[0].sparkPg.clients[1]", 'has no prefix length'],
    ["a client network with host bits set", withSparkPg((pg) => (pg.clients = ["10.20.0.5/16"])), "hosts[0].sparkPg.clients[0]", '"10.20.0.5/16" has host bits set'],
    ["a client network that is not an address", withSparkPg((pg) => (pg.clients = ["10.20.0/16"])), "hosts[0].sparkPg.clients[0]", 'is not an IP address'],
    ["a client network with a prefix too long", withSparkPg((pg) => (pg.clients = ["10.20.0.0/33"])), "hosts[0].sparkPg.clients[0]", "from 0 to 32"],
    ["an IPv6 client network for an IPv4 listen address", withSparkPg((pg) => (pg.clients = ["2001:db8::/32"])), "hosts[0].sparkPg.clients[0]", "is an IPv6 network, but listen 127.0.0.1 is IPv4"],
    ["an IPv4 client network for an IPv6 listen address", withSparkPg((pg) => { pg.listen = "2001:db8::10"; pg.clients = ["10.0.0.0/8"]; }), "hosts[0].sparkPg.clients[0]", "is an IPv4 network, but listen 2001:db8::10 is IPv6"],
    ["the same client network twice", withSparkPg((pg) => { pg.listen = "2001:db8::10"; pg.clients = ["2001:db8::/32", "2001:0db8:0::/32"]; }), "hosts[0].sparkPg.clients[1]", "is the network of clients[0] again"],
    ["a client list that is not a list", withSparkPg((pg) => (pg.clients = "10.0.0.0/8")), "hosts[0].sparkPg.clients", "must be array"],
    ["a certificate renewed only after it expired", withSparkPg((_pg, h) => (h.tls = { validDays: 20 })), "hosts[0].tls.validDays", "renewDays (30) must be less than validDays (20)"],
    ["verify failing before the renewal is due", withSparkPg((_pg, h) => (h.tls = { verifyDays: 30 })), "hosts[0].tls.verifyDays", "verifyDays (30) must be less than renewDays (30)"],
    ["a renewal window shorter than the verify window", withSparkPg((_pg, h) => (h.tls = { renewDays: 10 })), "hosts[0].tls.renewDays", "verifyDays (14) must be less than renewDays (10)"],
    ["a certificate valid for a day", withSparkPg((_pg, h) => (h.tls = { validDays: 1 })), "hosts[0].tls.validDays", "must be >= 2"],
    ["an unknown tls key", withSparkPg((_pg, h) => (h.tls = { days: 1 })), "hosts[0].tls.days", "unknown key"],
    ["a firewall without admin networks", withHost((h) => (h.firewall = {})), "hosts[0].firewall.adminNetworks", "is required"],
    ["a firewall open to no admin network", withHost((h) => (h.firewall = { adminNetworks: [] })), "hosts[0].firewall.adminNetworks", "must NOT have fewer than 1 items"],
    ["an admin network without a prefix", withHost((h) => (h.firewall = { adminNetworks: ["198.51.100.7"] })), "hosts[0].firewall.adminNetworks[0]", "has no prefix length"],
    ["an admin network with host bits set", withHost((h) => (h.firewall = { adminNetworks: ["198.51.100.7/24"] })), "hosts[0].firewall.adminNetworks[0]", "has host bits set"],
    ["the same admin network twice", withHost((h) => (h.firewall = { adminNetworks: ["2001:db8::/32", "2001:0db8::/32"] })), "hosts[0].firewall.adminNetworks[1]", "is the network of adminNetworks[0] again"],
    ["a confirmation window too short to confirm in", withHost((h) => (h.firewall = { adminNetworks: ["10.0.0.0/8"], confirmSeconds: 5 })), "hosts[0].firewall.confirmSeconds", "must be >= 10"],
    ["an unknown firewall key", withHost((h) => (h.firewall = { adminNetworks: ["10.0.0.0/8"], allow: [] })), "hosts[0].firewall.allow", "unknown key"],
    ["an SSH port inside spark-pg's pool", withSparkPg((_pg, h) => (h.firewall = { adminNetworks: ["10.0.0.0/8"], sshPort: 25510 })), "hosts[0].firewall.sshPort", "the SSH port 25510 lies in sparkPg.ports (25500-25519)"],
    ["a deploy port inside spark-pg's pool", withSparkPg((_pg, h) => { h.ssh.port = 25500; h.firewall = { adminNetworks: ["10.0.0.0/8"] }; }), "hosts[0].ssh.port", "the SSH port 25500 lies in sparkPg.ports"],
  ])("rejects %s", (_case, config, path, message) => {
    const errors = stackConfigErrors(config);
    expect(errors).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it("reports every error of a config at once, each with its path", () => {
    const config = withHost((h) => {
      h.name = "Bad";
      delete h.ssh.hostKey;
      h.btrfs.volumes[0].device = "vdb";
      h.btrfs.volumes[0].subvolumes[0].mode = "rwx";
    });
    expect(stackConfigErrors(config).map((e) => e.path).sort()).toEqual([
      "hosts[0].btrfs.volumes[0].device",
      "hosts[0].btrfs.volumes[0].subvolumes[0].mode",
      "hosts[0].name",
      "hosts[0].ssh.hostKey",
    ]);
    expect(new ConfigValidationError(stackConfigErrors(config)).message).toMatch(/^invalid stack config \(4 errors\):\n {2}hosts/);
  });

  it.each([
    ["a host key with a comment", withHost((h) => (h.ssh.hostKey = `${HOST_KEY} root@dev-1`))],
    ["a compression level", withHost((h) => (h.btrfs.volumes[0].mountOptions = ["noatime", "compress=zstd:3"]))],
    ["a sticky mode", withHost((h) => (h.btrfs.volumes[0].subvolumes[0].mode = "1777"))],
    ["the root user spelled out", withHost((h) => (h.ssh.user = "root"))],
    ["spark-pg instances with a fork", withSparkPg(() => undefined)],
    ["spark-pg on an IPv6 address", withSparkPg((pg) => (pg.listen = "::1"))],
    ["a protected instance on a protected volume", withSparkPg((pg, h) => ((pg.instances[0].protect = true), (h.btrfs.volumes[0].protect = true)))],
    ["a pool exactly the size of the instances", withSparkPg((pg) => (pg.ports = { from: 25500, to: 25501 }))],
  ])("accepts %s", (_case, config) => {
    expect(stackConfigErrors(config)).toEqual([]);
  });

  it("turns JSON pointers into config paths", () => {
    expect(toDottedPath("/hosts/1/btrfs/volumes/0/device")).toBe("hosts[1].btrfs.volumes[0].device");
    expect(toDottedPath("")).toBe("");
  });
});
