import { describe, expect, it } from "vitest";
import { stackConfigErrors } from "../../stacks/validate";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGalMW02EhxsccJwMhKX2F6Avhwvj4VM0HeEsoKqxwY0";

function withRedis(edit: (redis: any, host: any) => void = () => {}): unknown {
  const host: any = {
    name: "dev-1",
    ssh: { address: "203.0.113.10", hostKey: HOST_KEY },
    btrfs: { volumes: [{ name: "data", device: "/dev/vdb", label: "sparks-data", mountpoint: "/srv/sparks", subvolumes: [{ name: "pg" }, { name: "redis" }] }] },
    redis: {
      volume: "data",
      subvolume: "redis",
      listen: "127.0.0.1",
      ports: { from: 26300, to: 26319 },
      persistence: { appendfsync: "everysec", save: [{ seconds: 300, changes: 100 }] },
      maxmemory: "256M",
      maxmemoryPolicy: "noeviction",
      instances: [{ name: "main" }, { name: "fixtures", forkOf: "main" }],
    },
  };
  edit(host.redis, host);
  return { hosts: [host] };
}

describe("stack config validation: redis", () => {
  it("accepts a full redis block, and one with only the required keys", () => {
    expect(stackConfigErrors(withRedis())).toEqual([]);
    expect(stackConfigErrors(withRedis((r) => (r.clients = ["10.0.0.0/8", "192.168.7.0/24", "203.0.113.9/32"])))).toEqual([]);
    expect(stackConfigErrors(withRedis((r) => {
      delete r.persistence;
      delete r.maxmemory;
      delete r.maxmemoryPolicy;
      delete r.instances;
    }))).toEqual([]);
  });

  it.each([
    ["AOF turned off", withRedis((r) => (r.persistence.appendonly = false)), "hosts[0].redis.persistence.appendonly", "unknown key"],
    ["an unknown appendfsync", withRedis((r) => (r.persistence.appendfsync = "sometimes")), "hosts[0].redis.persistence.appendfsync", "must be one of"],
    ["a redis client network with host bits set", withRedis((r) => (r.clients = ["192.168.1.1/24"])), "hosts[0].redis.clients[0]", "has host bits set"],
    ["a redis client network of the other family", withRedis((r) => (r.clients = ["fd00::/8"])), "hosts[0].redis.clients[0]", "is an IPv6 network, but listen 127.0.0.1 is IPv4"],
    ["a redis client network twice", withRedis((r) => (r.clients = ["10.0.0.0/8", "10.0.0.0/8"])), "hosts[0].redis.clients[1]", "is the network of clients[0] again"],
    ["a redis wildcard listen address", withRedis((r) => (r.listen = "0.0.0.0")), "hosts[0].redis.listen", '"0.0.0.0" is a wildcard'],
    ["a redis wildcard IPv6 listen address", withRedis((r) => (r.listen = "::")), "hosts[0].redis.listen", '"::" is a wildcard'],
    ["a save point without changes", withRedis((r) => (r.persistence.save = [{ seconds: 60 }])), "hosts[0].redis.persistence.save[0].changes", "is required"],
    ["a save point of zero seconds", withRedis((r) => (r.persistence.save = [{ seconds: 0, changes: 1 }])), "hosts[0].redis.persistence.save[0].seconds", "must be >= 1"],
    ["a maxmemory in GB", withRedis((r) => (r.maxmemory = "4GB")), "hosts[0].redis.maxmemory", "must match"],
    ["an unknown eviction policy", withRedis((r) => (r.maxmemoryPolicy = "lru")), "hosts[0].redis.maxmemoryPolicy", "must be one of"],
    ["a listen address that is a name", withRedis((r) => (r.listen = "localhost")), "hosts[0].redis.listen", "must match"],
    ["a port below 1024", withRedis((r) => (r.ports.from = 6379 - 6000)), "hosts[0].redis.ports.from", "must be >= 1024"],
    ["an unknown key", withRedis((r) => (r.root = "/srv")), "hosts[0].redis.root", "unknown key"],
    ["an unknown volume", withRedis((r) => (r.volume = "nope")), "hosts[0].redis.volume", 'names no btrfs volume of this host ("nope")'],
    ["an undeclared subvolume", withRedis((r) => (r.subvolume = "cache")), "hosts[0].redis.subvolume", 'names no subvolume of volume "data" ("cache")'],
    ["a root the redis user cannot pass", withRedis((_r, h) => (h.btrfs.volumes[0].subvolumes[1].mode = "0750")), "hosts[0].redis.subvolume", "needs o+x"],
    ["a reversed port range", withRedis((r) => (r.ports = { from: 26319, to: 26300 })), "hosts[0].redis.ports", "from (26319) is greater than to (26300)"],
    ["a pool smaller than the instances", withRedis((r) => (r.ports = { from: 26300, to: 26300 })), "hosts[0].redis.ports", "holds 1 ports for 2 instances"],
    [
      "a pool overlapping spark-pg's",
      withRedis((_r, h) => (h.sparkPg = { version: 15, volume: "data", subvolume: "pg", listen: "127.0.0.1", ports: { from: 26310, to: 26330 } })),
      "hosts[0].redis.ports",
      "overlaps the sparkPg port pool 26310-26330",
    ],
    ["the reserved name default", withRedis((r) => (r.instances[0].name = "default")), "hosts[0].redis.instances[0].name", "reserved by Redis"],
    ["the name of spark-redis' own ACL user", withRedis((r) => (r.instances[0].name = "sparks-tool")), "hosts[0].redis.instances[0].name", "spark-redis (its own user)"],
    ["two instances with one name", withRedis((r) => (r.instances[1] = { name: "main" })), "hosts[0].redis.instances[1].name", 'duplicate instance name "main"'],
    ["a fork of an unknown instance", withRedis((r) => (r.instances[1].forkOf = "nope")), "hosts[0].redis.instances[1].forkOf", 'names no instance of this host ("nope")'],
    ["a fork declared before its source", withRedis((r) => r.instances.reverse()), "hosts[0].redis.instances[0].forkOf", "must be declared before"],
    ["a protected instance on an unprotected volume", withRedis((r) => (r.instances[0].protect = true)), "hosts[0].redis.instances[0].protect", 'needs volume "data" protected too'],
  ])("rejects %s at %s", (_what, config, at, message) => {
    const errors = stackConfigErrors(config);
    const hit = errors.find((e) => e.path === at);
    expect(hit, JSON.stringify(errors)).toBeDefined();
    expect(hit?.message).toContain(message);
  });
});
