import { SparksComponent } from "./component";
import { formatSize } from "../lib/size";
import * as pulumi from "@pulumi/pulumi";
import type { RedisExpectation } from "../verify/manifest";
import type { BtrfsVolume } from "./btrfs-volume";
import type { Host } from "./host";
import { hostCommand } from "./host-command";
import { type HostTls, TLS_DIR } from "./host-tls";
import { expectedInstances, hostToolCommand, type ToolInstanceArgs, toolInstanceCommands } from "./host-tool";
const TOOL = "spark-redis" as const;

export interface RedisInstanceArgs extends ToolInstanceArgs {
  /** Instance name: its ACL user, its unit `spark-redis@NAME.service` and its subvolume `<root>/NAME`. */
  name: string;
}

export interface RedisPersistenceArgs {
  /** AOF fsync policy (`always`, `everysec`, `no`); AOF itself is always on. Default "everysec". */
  appendfsync?: "always" | "everysec" | "no";
  /** RDB save points as redis writes them ("3600 1 300 100"), "" for none; default "3600 1 300 100 60 10000". */
  save?: string;
}

export interface RedisArgs {
  /** The host the instances run on. */
  host: Host;
  /** The btrfs volume holding the instances; it must be mounted before any instance exists. */
  volume: BtrfsVolume;
  /** Subvolume of `volume` that is the instance root; each instance is a subvolume nested in it. */
  subvolume: string;
  /** The one IP address every instance listens on (TLS only). */
  listen: string;
  /** Networks (CIDRs) whose clients may connect, besides the host itself; carried for the host firewall. Default none. */
  clients?: string[];
  /** The host's server certificate, which every instance serves; the tool is installed after it exists. */
  tls: HostTls;
  /** Port pool of the instances, both ends included. */
  ports: { from: number; to: number };
  /** What each fork may write of its own, in bytes (the tool's fork_limit_bytes); default 0, no limit. */
  forkLimitBytes?: number;
  /** Persistence of every instance; defaults as in RedisPersistenceArgs. */
  persistence?: RedisPersistenceArgs;
  /** `maxmemory` of each instance in bytes, 0 for no limit; default 0. */
  maxmemoryBytes?: number;
  /** `maxmemory-policy`; default "noeviction". */
  maxmemoryPolicy?: string;
  /** Instances that must exist, created in this order; default none. */
  instances?: RedisInstanceArgs[];
}

export const DEFAULT_SAVE = "3600 1 300 100 60 10000";

/**
 * Redis instances on btrfs, run by the host tool spark-redis: the packages (Debian's default
 * instance kept stopped), the tool and its config, then one command per declared instance
 * (`spark-redis ensure`, destroyed with `spark-redis destroy`).
 */
export class Redis extends SparksComponent {
  static readonly TYPE = "sparks:redis:Redis";

  /** What verify checks for these instances. */
  readonly expected: RedisExpectation;

  constructor(name: string, args: RedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super(Redis.TYPE, name, opts);
    const instances = args.instances ?? [];
    const settings = {
      appendfsync: args.persistence?.appendfsync ?? "everysec",
      save: args.persistence?.save ?? DEFAULT_SAVE,
      maxmemory: args.maxmemoryBytes ?? 0,
      maxmemoryPolicy: args.maxmemoryPolicy ?? "noeviction",
    };
    const clients = args.clients ?? [];
    this.expected = {
      listen: args.listen,
      root: { volume: args.volume.expected.name, subvolume: args.subvolume },
      clients,
      ...settings,
      instances: expectedInstances(instances, args.forkLimitBytes ?? 0),
    };
    const rootReady = args.volume.subvolumeReady[args.subvolume];
    if (rootReady === undefined) throw new Error(`${name}: volume ${args.volume.expected.name} declares no subvolume "${args.subvolume}"`);
    const root = `${args.volume.expected.mountpoint}/${args.subvolume}`;
    const config = {
      root,
      listen: args.listen,
      clients,
      ports: [args.ports.from, args.ports.to],
      appendfsync: settings.appendfsync,
      save: settings.save,
      maxmemory: settings.maxmemory,
      maxmemory_policy: settings.maxmemoryPolicy,
      ...(args.forkLimitBytes ? { fork_limit_bytes: args.forkLimitBytes } : {}),
    };
    const settingLines = [
      `appendfsync=${settings.appendfsync}`,
      `save=${settings.save}`,
      `maxmemory=${settings.maxmemory === 0 ? "0 (no limit)" : formatSize(settings.maxmemory)}`,
      `maxmemory-policy=${settings.maxmemoryPolicy}`,
      `tls=tls-port only, certificate ${TLS_DIR}/current`,
    ];

    const packages = this.createPackages(name, args);
    const tool = hostToolCommand(name, { host: args.host, tool: TOOL, config, root }, { parent: this, dependsOn: [packages, rootReady, args.tls.ready] });
    toolInstanceCommands(name, { host: args.host, tool: TOOL, instances, settings: settingLines, forkLimitBytes: args.forkLimitBytes }, { parent: this, dependsOn: [tool, rootReady] });
    this.registerOutputs({});
  }

  private createPackages(name: string, args: RedisArgs) {
    return hostCommand(
      `${name}-packages`,
      {
        host: args.host,
        create: { script: "redis/packages.sh", params: {} },
        delete: { script: "redis/packages.delete.sh", params: { KEEP_PACKAGES: args.host.packages } },
      },
      { parent: this, dependsOn: [args.host.ready] },
    );
  }
}
