import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { fleetConfigErrors } from "../../stacks/fleet";
import { planSandbox } from "./plan-sandbox";

const ROOT = path.resolve(__dirname, "../..");
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGalMW02EhxsccJwMhKX2F6Avhwvj4VM0HeEsoKqxwY0";

/** A shared layout: one volume with two subvolumes, spark-pg and redis on it. */
function defaults(): any {
  return {
    packages: ["htop"],
    btrfs: {
      volumes: [
        {
          name: "data",
          label: "sparks-data",
          mountpoint: "/srv/sparks",
          mountOptions: ["noatime", "compress=zstd:1"],
          subvolumes: [{ name: "pg", limit: "20G" }, { name: "redis", limit: "2G" }],
        },
      ],
    },
    sparkPg: { version: 15, volume: "data", subvolume: "pg", ports: { from: 25500, to: 25519 }, instances: [{ name: "main" }] },
    redis: { volume: "data", subvolume: "redis", ports: { from: 26300, to: 26319 }, maxmemory: "1G", instances: [{ name: "main" }] },
  };
}

/** A host as a fleet stack writes it: only what is its own. */
const host = (n: number, extra: any = {}): any => ({
  name: `db-${n}`,
  ssh: { address: `203.0.113.${n}`, hostKey: HOST_KEY },
  btrfs: { volumes: [{ name: "data", device: `/dev/disk/by-id/nvme-TEST_${n}` }] },
  sparkPg: { listen: `198.51.100.${n}` },
  redis: { listen: `198.51.100.${n}` },
  ...extra,
});

const errorsOf = (config: unknown) => fleetConfigErrors(config).errors.map((e) => `${e.path}: ${e.message}`);
const hostsOf = (config: unknown) => fleetConfigErrors(config).config.hosts as any[];

describe("fleet config: hosts extend hostDefaults and roles", () => {
  it("gives every host the defaults, and the merged host is valid", () => {
    const config = { hostDefaults: defaults(), hosts: [host(1), host(2)] };
    expect(errorsOf(config)).toEqual([]);
    const [one, two] = hostsOf(config);
    expect(one.btrfs.volumes[0]).toMatchObject({ name: "data", device: "/dev/disk/by-id/nvme-TEST_1", label: "sparks-data", mountpoint: "/srv/sparks" });
    expect(two.sparkPg).toEqual({ ...defaults().sparkPg, listen: "198.51.100.2" });
    expect(two.packages).toEqual(["htop"]);
  });

  it("lets a host's own value win over the defaults, and leaves the other hosts alone", () => {
    const [one, two] = hostsOf({ hostDefaults: defaults(), hosts: [host(1, { redis: { listen: "198.51.100.1", maxmemory: "8G" } }), host(2)] });
    expect(one.redis.maxmemory).toBe("8G");
    expect(one.redis.volume).toBe("data");
    expect(two.redis.maxmemory).toBe("1G");
  });

  it("merges lists of named items by name: one volume's device and one subvolume's limit, the rest kept", () => {
    const own = host(1);
    own.btrfs.volumes[0].subvolumes = [{ name: "redis", limit: "4G" }, { name: "scratch", mode: "1777" }];
    const [merged] = hostsOf({ hostDefaults: defaults(), hosts: [own] });
    expect(merged.btrfs.volumes).toHaveLength(1);
    expect(merged.btrfs.volumes[0].subvolumes).toEqual([{ name: "pg", limit: "20G" }, { name: "redis", limit: "4G" }, { name: "scratch", mode: "1777" }]);
    expect(merged.btrfs.volumes[0].mountOptions).toEqual(["noatime", "compress=zstd:1"]);
  });

  it("replaces every other list, an empty one included", () => {
    const [merged] = hostsOf({ hostDefaults: defaults(), hosts: [host(1, { packages: ["vim"], redis: { listen: "198.51.100.1", instances: [] } })] });
    expect(merged.packages).toEqual(["vim"]);
    expect(merged.redis.instances).toEqual([]);
  });

  it("lays the defaults, then each role in the order listed, then the host", () => {
    const config = {
      hostDefaults: defaults(),
      roles: { big: { redis: { maxmemory: "16G" } }, tuned: { redis: { maxmemory: "12G", maxmemoryPolicy: "allkeys-lru" } } },
      hosts: [host(1, { roles: ["tuned", "big"] }), host(2, { roles: ["big"], redis: { listen: "198.51.100.2", maxmemory: "2G" } })],
    };
    expect(errorsOf(config)).toEqual([]);
    const [one, two] = hostsOf(config);
    expect(one.redis).toMatchObject({ maxmemory: "16G", maxmemoryPolicy: "allkeys-lru" });
    expect(two.redis.maxmemory).toBe("2G");
    expect("roles" in one).toBe(false);
  });

  it("keeps a stack without the fleet keys as written, with its errors at their paths", () => {
    const own = { ...defaults(), ...host(1) };
    own.btrfs = { volumes: [{ ...defaults().btrfs.volumes[0], device: "vdb" }] };
    own.sparkPg = { ...defaults().sparkPg, listen: "198.51.100.1" };
    own.redis = { ...defaults().redis, listen: "198.51.100.1" };
    const config = { hosts: [own] };
    expect(hostsOf(config)[0]).toBe(own);
    expect(errorsOf(config)).toEqual([expect.stringMatching(/^hosts\[0\]\.btrfs\.volumes\[0\]\.device: must match /)]);
  });
});

describe("fleet config: each error where it is written", () => {
  it("names the host of an unknown key in its override", () => {
    const config = { hostDefaults: defaults(), hosts: [host(1), host(2, { sparkPg: { lisen: "198.51.100.2" } })] };
    expect(errorsOf(config)).toContain("hosts[1] (db-2).sparkPg.lisen: unknown key");
  });

  it("names a host's missing value at the host, with the host's own list index", () => {
    const two = host(2);
    delete two.btrfs.volumes[0].device;
    two.btrfs.volumes[0].name = "data";
    const errors = errorsOf({ hostDefaults: defaults(), hosts: [host(1), two] });
    expect(errors).toContain("hosts[1] (db-2).btrfs.volumes[0].device: is required");
    const three = host(3);
    delete three.redis;
    expect(errorsOf({ hostDefaults: defaults(), hosts: [three] })).toContain("hosts[0] (db-3).redis.listen: is required");
  });

  it("refuses an unknown role, naming the host and the role", () => {
    const config = { hostDefaults: defaults(), roles: { big: { redis: { maxmemory: "16G" } } }, hosts: [host(1), host(2, { roles: ["bgi"] })] };
    expect(errorsOf(config)).toEqual(['hosts[1] (db-2).roles[0]: unknown role "bgi" (roles: big)']);
    expect(errorsOf({ hosts: [host(1, { roles: ["big"] })] })[0]).toBe('hosts[0] (db-1).roles[0]: unknown role "big" (sparks:roles defines none)');
  });

  it("reports a bad value in a role once, at the role's path, for every host that takes it and for none", () => {
    const config = {
      hostDefaults: defaults(),
      roles: { db: { redis: { maxmemory: "lots", maxmemroy: "1G" } }, unused: { sparkPg: { version: 14 } } },
      hosts: [host(1, { roles: ["db"] }), host(2, { roles: ["db"] })],
    };
    expect(errorsOf(config)).toEqual([
      "roles.db.redis.maxmemroy: unknown key",
      expect.stringMatching(/^roles\.db\.redis\.maxmemory: must match /),
      "roles.unused.sparkPg.version: must be one of: 15",
    ]);
  });

  it("reports a bad value in the defaults at hostDefaults", () => {
    const shared = defaults();
    shared.btrfs.volumes[0].mountpoint = "srv";
    expect(errorsOf({ hostDefaults: shared, hosts: [host(1), host(2)] }).map((e) => e.split(": ")[0])).toEqual(["hostDefaults.btrfs.volumes[0].mountpoint"]);
  });

  it("reports a rule across fields at the host, even where a shared value is part of it", () => {
    const two = host(2, { sparkPg: { listen: "198.51.100.2", subvolume: "redis" } });
    expect(errorsOf({ hostDefaults: defaults(), hosts: [host(1), two] })).toContain(
      "hosts[1] (db-2).redis.subvolume: is also the subvolume of sparkPg (data/redis): each service needs its own",
    );
  });

  it("refuses a host's name in a shared block", () => {
    expect(errorsOf({ hostDefaults: { ...defaults(), name: "x" }, hosts: [host(1)] })).toContain("hostDefaults.name: is each host's own: set it on the host");
  });
});

describe("fleet config: no secret in a shared block", () => {
  it("refuses ssh.privateKey in the defaults and in a role, naming the path", () => {
    const config = { hostDefaults: { ...defaults(), ssh: { privateKey: "k" } }, roles: { db: { ssh: { privateKey: "k" } } }, hosts: [host(1, { roles: ["db"] })] };
    const errors = errorsOf(config).filter((e) => e.includes("privateKey"));
    expect(errors.map((e) => e.split(": ")[0])).toEqual(["hostDefaults.ssh.privateKey", "roles.db.ssh.privateKey"]);
    expect(errors[0]).toContain("may not be shared");
  });

  const dir = path.join(ROOT, "test-results", "fleet-config");
  /** `npm run plan` of the sandbox stack with `edit` made to its config, and `args`. */
  function planEdited(name: string, edit: (config: Record<string, any>) => void, args: string[] = []): Promise<{ code: number | null; stderr: string }> {
    mkdirSync(dir, { recursive: true });
    const stack = parse(readFileSync(path.join(ROOT, "Pulumi.sandbox.yaml"), "utf8"));
    edit(stack.config);
    const file = path.join(dir, `Pulumi.${name}.yaml`);
    writeFileSync(file, JSON.stringify(stack));
    return planSandbox(dir, ["--config-file", file, ...args]);
  }

  it("refuses a secure: value in a role of a stack file before the program runs", async () => {
    const run = await planEdited("secret-role", (config) => {
      config["sparks:roles"] = { db: { ssh: { privateKey: { secure: "v1:AAAAx" } } } };
      config["sparks:hosts"][0].roles = ["db"];
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("roles.db.ssh.privateKey: is a secret, which only hosts[N].ssh.privateKey may be");
  }, 60_000);

  it("refuses a shared block the engine passes as a secret: the program would read it as plain text", async () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "roles.json"), JSON.stringify({ db: { packages: ["htop"] } }));
    const run = await planEdited("secret-roles-key", (config) => (config["sparks:hosts"][0].roles = ["db"]), ["--secret", `roles=${path.join(dir, "roles.json")}`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("roles: is a secret, which only hosts[N].ssh.privateKey may be");
  }, 60_000);
});
