import { SparksComponent } from "./component";
import * as pulumi from "@pulumi/pulumi";
import type { SparkPgExpectation } from "../verify/manifest";
import type { BtrfsVolume } from "./btrfs-volume";
import type { Host } from "./host";
import { hostCommand } from "./host-command";
import { type HostTls, TLS_DIR } from "./host-tls";
import { expectedInstances, hostToolCommand, type ToolInstanceArgs, toolInstanceCommands } from "./host-tool";

const TOOL = "spark-pg" as const;
export interface SparkPgInstanceArgs extends ToolInstanceArgs {
  /** Instance name: its role, its unit `spark-pg@NAME.service` and its subvolume `<root>/NAME`. */
  name: string;
}

export interface SparkPgArgs {
  /** The host the instances run on. */
  host: Host;
  /** PostgreSQL major version: Debian's package `postgresql-<version>`. */
  version: number;
  /** The btrfs volume holding the instances; it must be mounted before any instance exists. */
  volume: BtrfsVolume;
  /** Subvolume of `volume` that is the instance root; each instance is a subvolume nested in it. */
  subvolume: string;
  /** The one IP address every instance listens on. */
  listen: string;
  /** Networks (CIDRs) whose clients may connect, over TLS only, besides the host itself; default none. */
  clients?: string[];
  /** The host's server certificate, which every instance serves; the tool is installed after it exists. */
  tls: HostTls;
  /** Port pool of the instances, both ends included. */
  ports: { from: number; to: number };
  /** What each fork may write of its own, in bytes (the tool's fork_limit_bytes); default 0, no limit. */
  forkLimitBytes?: number;
  /** Instances that must exist, created in this order; default none. */
  instances?: SparkPgInstanceArgs[];
}

/**
 * Postgres instances on btrfs, run by the host tool spark-pg: the packages, the tool and its
 * config, then one command per declared instance (`spark-pg ensure`, destroyed with `spark-pg destroy`).
 */
export class SparkPg extends SparksComponent {
  static readonly TYPE = "sparks:postgres:SparkPg";

  /** What verify checks for these instances. */
  readonly expected: SparkPgExpectation;

  constructor(name: string, args: SparkPgArgs, opts?: pulumi.ComponentResourceOptions) {
    super(SparkPg.TYPE, name, opts);
    const instances = args.instances ?? [];
    const clients = args.clients ?? [];
    this.expected = {
      version: args.version,
      listen: args.listen,
      root: { volume: args.volume.expected.name, subvolume: args.subvolume },
      clients,
      instances: expectedInstances(instances, args.forkLimitBytes ?? 0),
    };
    const rootReady = args.volume.subvolumeReady[args.subvolume];
    if (rootReady === undefined) throw new Error(`${name}: volume ${args.volume.expected.name} declares no subvolume "${args.subvolume}"`);
    const root = `${args.volume.expected.mountpoint}/${args.subvolume}`;

    const packages = this.createPackages(name, args);
    const forkLimit = args.forkLimitBytes ? { fork_limit_bytes: args.forkLimitBytes } : {};
    const config = { version: args.version, root, listen: args.listen, clients, ports: [args.ports.from, args.ports.to], ...forkLimit };
    const tool = hostToolCommand(name, { host: args.host, tool: TOOL, config, root }, { parent: this, dependsOn: [packages, rootReady, args.tls.ready] });
    // pg_hba.conf and the TLS settings are reloadable: ensure rewrites them and reloads.
    const settings = [`clients=${clients.length === 0 ? "(the host itself only)" : clients.join(",")}`, `tls=hostssl only, certificate ${TLS_DIR}/current`];
    toolInstanceCommands(
      name,
      {
        host: args.host,
        tool: TOOL,
        instances,
        settings,
        onChange: "SETTINGS: reloads the instance (restarts one started before it could read the certificate)",
        forkLimitBytes: args.forkLimitBytes,
      },
      { parent: this, dependsOn: [tool, rootReady] },
    );
    this.registerOutputs({});
  }

  private createPackages(name: string, args: SparkPgArgs) {
    return hostCommand(
      `${name}-packages`,
      {
        host: args.host,
        create: { script: "spark-pg/packages.sh", params: { VERSION: args.version } },
        delete: { script: "spark-pg/packages.delete.sh", params: { VERSION: args.version, KEEP_PACKAGES: args.host.packages } },
      },
      { parent: this, dependsOn: [args.host.ready] },
    );
  }
}
