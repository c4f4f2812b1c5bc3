import type { BtrfsVolume } from "../components/btrfs-volume";
import type { Host } from "../components/host";
import type { HostTls } from "../components/host-tls";
import { DEFAULT_SAVE, Redis } from "../components/redis";
import { parseSize } from "../lib/size";
import type { HostConfig } from "./types";

/** The host's Redis component from its validated `redis` config, or undefined when it declares none. */
export function redisFromConfig(config: HostConfig, host: Host, volumes: BtrfsVolume[], tls: HostTls | undefined): Redis | undefined {
  const redis = config.redis;
  if (redis === undefined) return undefined;
  if (tls === undefined) throw new Error(`${config.name}: redis needs the host's TLS certificates`);
  const save = redis.persistence?.save;
  return new Redis(
    `${config.name}-redis`,
    {
      host,
      // Validation made sure the volume is declared on this host.
      volume: volumes[(config.btrfs?.volumes ?? []).findIndex((v) => v.name === redis.volume)],
      subvolume: redis.subvolume,
      listen: redis.listen,
      clients: redis.clients,
      tls,
      ports: redis.ports,
      forkLimitBytes: redis.forkLimit === undefined ? 0 : parseSize(redis.forkLimit),
      persistence: {
        appendfsync: redis.persistence?.appendfsync ?? "everysec",
        save: save === undefined ? DEFAULT_SAVE : save.map((p) => `${p.seconds} ${p.changes}`).join(" "),
      },
      maxmemoryBytes: redis.maxmemory === undefined ? 0 : parseSize(redis.maxmemory),
      maxmemoryPolicy: redis.maxmemoryPolicy,
      instances: redis.instances,
    },
    { parent: host },
  );
}
