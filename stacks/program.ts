import * as pulumi from "@pulumi/pulumi";
import { BtrfsVolume } from "../components/btrfs-volume";
import { Host } from "../components/host";
import { HostFirewall, type HostFirewallArgs } from "../components/host-firewall";
import type { FirewallService } from "../components/firewall-rules";
import { HostTls, type OperatorCa } from "../components/host-tls";
import { SparkPg } from "../components/spark-pg";
import { parseSize } from "../lib/size";
import { redisFromConfig } from "./redis-program";
import type { HostExpectation, VerifyManifest } from "../verify/manifest";
import { deployKvm } from "./kvm-program";
import { loadStackConfig, type ResolvedHost } from "./config";
import type { FirewallConfig } from "./types";

/** What the entry point exports as stack outputs. */
export interface StackOutputs {
  /** What verify checks on every host. */
  verifyManifest: VerifyManifest;
  /** Each host's CA certificate (PEM, public), by host name: what the services' clients trust. Only hosts that serve TLS. */
  tlsCaCertificates: Record<string, pulumi.Output<string>>;
}

/** The whole deploy: every host of the stack with what it carries, and what the stack exports. */
export function deployStack(): StackOutputs {
  const { hosts, converge, tlsCa } = loadStackConfig();
  const deployed = hosts.map((host) => deployHost(host, converge, tlsCa));
  return {
    verifyManifest: {
      version: 1,
      project: pulumi.getProject(),
      stack: pulumi.getStack(),
      hosts: deployed.map((d) => d.expected),
    },
    tlsCaCertificates: Object.fromEntries(deployed.flatMap((d) => (d.tls ? [[d.expected.name, d.tls.caCertificate]] : []))),
  };
}

/** The services' listen addresses, each once: what the host's server certificate names. */
function serviceAddresses(config: ResolvedHost["config"]): string[] {
  return [...new Set([config.sparkPg?.listen, config.redis?.listen].filter((a): a is string => a !== undefined))];
}

function deployHost({ config, connection }: ResolvedHost, converge: string, tlsCa: OperatorCa | undefined): { expected: HostExpectation; tls?: HostTls } {
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
  const addresses = serviceAddresses(config);
  const tls =
    addresses.length === 0
      ? undefined
      : new HostTls(
          `${config.name}-tls`,
          { host, addresses, validDays: config.tls?.validDays, renewDays: config.tls?.renewDays, verifyDays: config.tls?.verifyDays, ca: tlsCa },
          { parent: host },
        );
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
        clients: pg.clients,
        // Made whenever the host runs a service.
        tls: tls as HostTls,
        ports: pg.ports,
        forkLimitBytes: pg.forkLimit === undefined ? 0 : parseSize(pg.forkLimit),
        instances: pg.instances,
      },
      { parent: host },
    );
  const redis = redisFromConfig(config, host, volumes, tls);
  const firewall = config.firewall && new HostFirewall(`${config.name}-firewall`, { host, ...firewallRules(config.firewall, config, connection.port) }, { parent: host });
  const expected: HostExpectation = {
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
    ...(tls ? { tls: tls.expected } : {}),
    ...(firewall ? { firewall: firewall.expected } : {}),
  };
  return { expected, tls };
}

/** The firewall's rules from the host's config: SSH (on the port the deploy uses, unless the config names sshd's own), each service's pool, the NAT bridges' guests. */
function firewallRules(firewall: FirewallConfig, config: ResolvedHost["config"], deployPort: number): Omit<HostFirewallArgs, "host"> {
  const services: FirewallService[] = [];
  if (config.sparkPg) services.push({ name: "spark-pg", listen: config.sparkPg.listen, ports: config.sparkPg.ports, clients: config.sparkPg.clients ?? [] });
  if (config.redis) services.push({ name: "redis", listen: config.redis.listen, ports: config.redis.ports, clients: config.redis.clients ?? [] });
  return {
    sshPort: firewall.sshPort ?? deployPort,
    adminNetworks: firewall.adminNetworks,
    confirmSeconds: firewall.confirmSeconds,
    services,
    guestBridges: (config.kvm?.networks ?? []).flatMap((n) => (n.mode === "nat" && n.bridge !== undefined ? [n.bridge] : [])),
  };
}
