import * as pulumi from "@pulumi/pulumi";
import { BtrfsVolume } from "../components/btrfs-volume";
import { Host } from "../components/host";
import { SparkPg } from "../components/spark-pg";
import { parseSize } from "../lib/size";
import { redisFromConfig } from "./redis-program";
import type { HostExpectation, VerifyManifest } from "../verify/manifest";
import { deployKvm } from "./kvm-program";
import { loadStackConfig, type ResolvedHost } from "./config";

/**
 * The whole deploy: every host of the stack with what it carries. Returns the verify manifest,
 * which the entry point exports as a stack output.
 */
export function deployStack(): VerifyManifest {
  const { hosts, converge } = loadStackConfig();
  return {
    version: 1,
    project: pulumi.getProject(),
    stack: pulumi.getStack(),
    hosts: hosts.map((host) => deployHost(host, converge)),
  };
}

function deployHost({ config, connection }: ResolvedHost, converge: string): HostExpectation {
  const host = new Host(config.name, {
    address: connection.address,
    port: connection.port,
    user: connection.user,
    hostKey: connection.hostKey,
    privateKey: connection.privateKey,
    packages: config.packages,
    converge,
  });
  const volumes = (config.btrfs?.volumes ?? []).map(
    (volume) => new BtrfsVolume(`${config.name}-${volume.name}`, { host, ...volume }, { parent: host }),
  );
  const volumesByName = Object.fromEntries((config.btrfs?.volumes ?? []).map((v, i) => [v.name, volumes[i]]));
  const pg = config.sparkPg;
  const sparkPg =
    pg &&
    new SparkPg(
      `${config.name}-spark-pg`,
      {
        host,
        version: pg.version,
        // Validation made sure the volume is declared on this host.
        volume: volumes[(config.btrfs?.volumes ?? []).findIndex((v) => v.name === pg.volume)],
        subvolume: pg.subvolume,
        listen: pg.listen,
        ports: pg.ports,
        forkLimitBytes: pg.forkLimit === undefined ? 0 : parseSize(pg.forkLimit),
        instances: pg.instances,
      },
      { parent: host },
    );
  const redis = redisFromConfig(config, host, volumes);
  return {
    name: config.name,
    ssh: {
      address: connection.address,
      port: connection.port,
      user: connection.user,
      hostKey: connection.hostKey,
      ...(connection.identityFile === undefined ? {} : { identityFile: connection.identityFile }),
    },
    packages: host.packages,
    btrfsVolumes: volumes.map((volume) => volume.expected),
    ...(sparkPg ? { sparkPg: sparkPg.expected } : {}),
    ...(redis ? { redis: redis.expected } : {}),
    ...(config.kvm ? { kvm: deployKvm(config.name, host, volumesByName, config.kvm) } : {}),
  };
}
