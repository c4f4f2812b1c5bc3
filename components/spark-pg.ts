import { SparksComponent } from "./component";
import * as pulumi from "@pulumi/pulumi";
import type { SparkPgExpectation } from "../verify/manifest";
import type { BtrfsVolume } from "./btrfs-volume";
import type { Host } from "./host";
import { hostCommand } from "./host-command";
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
    this.expected = {
      version: args.version,
      listen: args.listen,
      root: { volume: args.volume.expected.name, subvolume: args.subvolume },
      instances: expectedInstances(instances, args.forkLimitBytes ?? 0),
    };
    const rootReady = args.volume.subvolumeReady[args.subvolume];
    if (rootReady === undefined) throw new Error(`${name}: volume ${args.volume.expected.name} declares no subvolume "${args.subvolume}"`);
    const root = `${args.volume.expected.mountpoint}/${args.subvolume}`;

    const packages = this.createPackages(name, args);
    const forkLimit = args.forkLimitBytes ? { fork_limit_bytes: args.forkLimitBytes } : {};
    const config = { version: args.version, root, listen: args.listen, ports: [args.ports.from, args.ports.to], ...forkLimit };
    const tool = hostToolCommand(name, { host: args.host, tool: TOOL, config, root }, { parent: this, dependsOn: [packages, rootReady] });
    toolInstanceCommands(name, { host: args.host, tool: TOOL, instances, forkLimitBytes: args.forkLimitBytes }, { parent: this, dependsOn: [tool, rootReady] });
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
