import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { bundleDir } from "../../components/bundle";
import { headerParams, HOST_KEY, mockPulumiRuntime, renderedUrn, resolve, settle, withShippedScript } from "./support";

let Host: typeof import("../../components/host").Host;
let BtrfsVolume: typeof import("../../components/btrfs-volume").BtrfsVolume;
let Redis: typeof import("../../components/redis").Redis;
let HostTls: typeof import("../../components/host-tls").HostTls;

const registered = mockPulumiRuntime(async () => {
  ({ Host } = await import("../../components/host"));
  ({ BtrfsVolume } = await import("../../components/btrfs-volume"));
  ({ Redis } = await import("../../components/redis"));
  ({ HostTls } = await import("../../components/host-tls"));
});
const named = (prefix: string) => registered.filter((r) => r.name.startsWith(prefix));

function newRedis(hostName: string, extra: Record<string, unknown> = {}) {
  const host = new Host(hostName, { address: "203.0.113.10", hostKey: HOST_KEY, privateKey: pulumi.secret("KEY") });
  const volume = new BtrfsVolume(`${hostName}-data`, { host, device: "/dev/vdb", label: "l", mountpoint: "/srv/sparks", subvolumes: [{ name: "redis" }] }, { parent: host });
  const tls = new HostTls(`${hostName}-tls`, { host, addresses: ["127.0.0.1"] }, { parent: host });
  const redis = new Redis(
    `${hostName}-redis`,
    { host, volume, subvolume: "redis", listen: "127.0.0.1", ports: { from: 26300, to: 26319 }, instances: [{ name: "main", protect: true }, { name: "fixtures", forkOf: "main" }], tls, ...extra },
    { parent: host },
  );
  return { host, volume, redis };
}

describe("Redis", () => {
  it("names its commands after itself, nests under the host, and registers each after what it needs", async () => {
    const { redis } = newRedis("r1");
    expect(await resolve(redis.urn)).toContain("sparks:host:Host$sparks:redis:Redis::r1-redis");
    await settle();
    const order = named("r1-").map((r) => r.name);
    expect(order.filter((n) => n.startsWith("r1-redis-"))).toEqual(["r1-redis-packages", "r1-redis-tool", "r1-redis-instance-main", "r1-redis-instance-fixtures"]);
    expect(order.indexOf("r1-redis-tool")).toBeGreaterThan(order.indexOf("r1-data-subvolume-redis"));
    expect(order.indexOf("r1-redis-packages")).toBeGreaterThan(order.indexOf("r1-base-packages"));
  });

  it("hands each instance its name, source and readable settings, and destroys it with spark-redis destroy", async () => {
    const { redis } = newRedis("r2");
    await resolve(redis.urn);
    await settle();
    const main = named("r2-redis-instance-main")[0].inputs;
    const fixtures = named("r2-redis-instance-fixtures")[0].inputs;
    const parents = "sparks:host:Host$sparks:redis:Redis";
    expect(headerParams(main.create)).toMatchObject({ NAME: "main", FORK_OF: "''", TOOL: "spark-redis", RESOURCE: renderedUrn(parents, "r2-redis-instance-main") });
    expect(headerParams(fixtures.create)).toMatchObject({ NAME: "fixtures", FORK_OF: "main" });
    // A reviewer reads the values and what a change of them does.
    expect(headerParams(main.create).SETTINGS).toBe(
      "(appendfsync=everysec 'save=3600 1 300 100 60 10000' 'maxmemory=0 (no limit)' maxmemory-policy=noeviction 'tls=tls-port only, certificate /etc/sparks/tls/current')",
    );
    expect(headerParams(main.create).ON_CHANGE).toBe("'SETTINGS: restarts the instance'");
    expect(withShippedScript(fixtures.delete)).toContain('"$TOOL" destroy "$NAME"');
    expect(headerParams(fixtures.delete)).toMatchObject({ NAME: "fixtures", TOOL: "spark-redis" });
    expect(redis.expected).toEqual({
      listen: "127.0.0.1",
      root: { volume: "r2-data", subvolume: "redis" },
      clients: [],
      appendfsync: "everysec",
      save: "3600 1 300 100 60 10000",
      maxmemory: 0,
      maxmemoryPolicy: "noeviction",
      instances: [{ name: "main" }, { name: "fixtures", forkOf: "main" }],
    });
  });

  it("re-runs the instances' ensure when a setting changes, and only then", async () => {
    const settings = (host: string) => headerParams(named(`${host}-redis-instance-main`)[0].inputs.create).SETTINGS;
    newRedis("r3a", { maxmemoryBytes: 1 << 28 });
    newRedis("r3b", { maxmemoryBytes: 1 << 28 });
    newRedis("r3c", { maxmemoryBytes: 1 << 29 });
    newRedis("r3d", { maxmemoryBytes: 1 << 28, persistence: { appendfsync: "always" } });
    await settle();
    expect(settings("r3a")).toBe(settings("r3b"));
    expect(settings("r3c")).not.toBe(settings("r3a"));
    expect(settings("r3d")).not.toBe(settings("r3a"));
  });

  it("keeps Debian's default instance from starting before it installs redis-server", async () => {
    newRedis("r4");
    await settle();
    const script = withShippedScript(named("r4-redis-packages")[0].inputs.create as string);
    const install = script.indexOf('\ninstall_recorded spark-redis-packages redis "redis-server redis-tools"');
    expect(install).toBeGreaterThan(0);
    expect(script.indexOf("ConditionPathExists=/etc/redis/sparks-default-instance-wanted")).toBeLessThan(install);
    expect(script.indexOf("systemctl disable --quiet redis-server.service")).toBeGreaterThan(install);
  });

  it("installs its own tool from the shipped bundle into its own directory, with its config in the tool command", async () => {
    newRedis("r5", { maxmemoryBytes: 64 * 1024 * 1024, maxmemoryPolicy: "allkeys-lru", persistence: { appendfsync: "always", save: "" } });
    await settle();
    const tool = named("r5-redis-tool")[0].inputs.create as string;
    expect(JSON.parse(headerParams(tool).CONFIG_JSON.slice(1, -1))).toEqual({
      root: "/srv/sparks/redis",
      listen: "127.0.0.1",
      clients: [],
      ports: [26300, 26319],
      appendfsync: "always",
      save: "",
      maxmemory: 64 * 1024 * 1024,
      maxmemory_policy: "allkeys-lru",
    });
    expect(headerParams(tool)).toMatchObject({ INSTALL_DIR: "/usr/local/lib/sparks/spark-redis", TOOL: "spark-redis" });
    const source = path.join(bundleDir(), headerParams(tool).SOURCE_DIR.slice("/usr/local/lib/sparks/bundle/".length));
    for (const file of ["spark-redis", "sparks_host/instances.py", "sparks_host/redis.py", "sparks_host/resp.py"]) {
      expect(readFileSync(path.join(source, file), "utf8")).toBe(readFileSync(path.join(__dirname, "../../host-tools", file), "utf8"));
    }
    expect(existsSync(path.join(source, "sparks_host/pg.py"))).toBe(false);
  });

  it("takes the packages and the tool back on destroy, keeping the Host's packages", async () => {
    newRedis("r8");
    await settle();
    const packages = named("r8-redis-packages")[0].inputs.delete as string;
    expect(packages).toContain("# redis/packages.delete.sh");
    const parents = "sparks:host:Host$sparks:redis:Redis";
    expect(headerParams(packages)).toMatchObject({ KEEP_PACKAGES: expect.stringContaining("btrfs-progs"), RESOURCE: renderedUrn(parents, "r8-redis-packages") });
    const tool = named("r8-redis-tool")[0].inputs.delete as string;
    expect(tool).toContain("# host-tool/remove.sh");
    expect(headerParams(tool)).toMatchObject({ ROOT: "/srv/sparks/redis", INSTALL_DIR: "/usr/local/lib/sparks/spark-redis", TOOL: "spark-redis", RESOURCE: renderedUrn(parents, "r8-redis-tool") });
  });

  it("keeps a protected instance on destroy, and refuses a fork of an instance not declared before", () => {
    newRedis("r6");
    const host = new Host("r7", { address: "203.0.113.10", hostKey: HOST_KEY, privateKey: pulumi.secret("KEY") });
    const volume = new BtrfsVolume("r7-data", { host, device: "/dev/vdb", label: "l", mountpoint: "/srv/sparks", subvolumes: [{ name: "redis" }] });
    const tls = new HostTls("r7-tls", { host, addresses: ["127.0.0.1"] });
    const args = { host, volume, listen: "127.0.0.1", ports: { from: 26300, to: 26301 }, tls };
    expect(() => new Redis("r7-a", { ...args, subvolume: "nope" })).toThrow(/no subvolume "nope"/);
    expect(() => new Redis("r7-b", { ...args, subvolume: "redis", instances: [{ name: "f", forkOf: "main" }] })).toThrow(/not declared before/);
  });
});
