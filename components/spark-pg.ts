import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { SparkPgExpectation } from "../verify/manifest";
import type { BtrfsVolume } from "./btrfs-volume";
import type { Host } from "./host";
import { hostCommand } from "./host-command";

/** Where the host tool's source lives in this repository. */
export const HOST_TOOLS_DIR = path.join(__dirname, "..", "host-tools");
/** The tool's files, relative to HOST_TOOLS_DIR, in the order they ride to the host (fd 4, 5, ...). */
export const SPARK_PG_FILES = [
  "spark-pg",
  "sparks_host/__init__.py",
  "sparks_host/cli.py",
  "sparks_host/instances.py",
  "sparks_host/pg.py",
  "sparks_host/pgwire.py",
] as const;
/** The tool's home on the host; /usr/local/sbin/spark-pg links to its entry there. */
export const SPARK_PG_INSTALL_DIR = "/usr/local/lib/sparks";

export interface SparkPgInstanceArgs {
  /** Instance name: its role, its unit `spark-pg@NAME.service` and its subvolume `<root>/NAME`. */
  name: string;
  /** Created as a fork of this instance of the same component, declared before it; default created empty. */
  forkOf?: string;
  /** Destroy leaves the instance in place (retainOnDelete); default false. */
  protect?: boolean;
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
  /** Instances that must exist, created in this order; default none. */
  instances?: SparkPgInstanceArgs[];
}

/**
 * Postgres instances on btrfs, run by the host tool spark-pg: the packages, the tool and its
 * config, then one command per declared instance (`spark-pg ensure`, destroyed with `spark-pg destroy`).
 */
export class SparkPg extends pulumi.ComponentResource {
  static readonly TYPE = "sparks:postgres:SparkPg";

  /** What verify checks for these instances. */
  readonly expected: SparkPgExpectation;

  constructor(name: string, args: SparkPgArgs, opts?: pulumi.ComponentResourceOptions) {
    super(SparkPg.TYPE, name, {}, opts);
    const instances = args.instances ?? [];
    this.expected = {
      version: args.version,
      listen: args.listen,
      instances: instances.map((i) => (i.forkOf === undefined ? { name: i.name } : { name: i.name, forkOf: i.forkOf })),
    };
    const rootReady = args.volume.subvolumeReady[args.subvolume];
    if (rootReady === undefined) throw new Error(`${name}: volume ${args.volume.expected.name} declares no subvolume "${args.subvolume}"`);
    const root = `${args.volume.expected.mountpoint}/${args.subvolume}`;

    const packages = this.createPackages(name, args);
    const tool = this.createTool(name, args, root, [packages, rootReady]);
    const created = new Map<string, pulumi.Resource>();
    for (const instance of instances) {
      const source = instance.forkOf === undefined ? undefined : created.get(instance.forkOf);
      if (instance.forkOf !== undefined && source === undefined) {
        throw new Error(`${name}: instance ${instance.name} forks ${instance.forkOf}, which is not declared before it`);
      }
      created.set(instance.name, this.createInstance(name, args, instance, [tool, rootReady, ...(source ? [source] : [])]));
    }
    this.registerOutputs({});
  }

  private createPackages(name: string, args: SparkPgArgs) {
    return hostCommand(
      `${name}-packages`,
      {
        connection: args.host.connection,
        create: { script: "spark-pg/packages.sh", params: { VERSION: args.version } },
        delete: { script: "spark-pg/packages.delete.sh", params: { VERSION: args.version, KEEP_PACKAGES: args.host.packages } },
      },
      { parent: this, dependsOn: [args.host.ready] },
    );
  }

  private createTool(name: string, args: SparkPgArgs, root: string, dependsOn: pulumi.Resource[]) {
    const config = { version: args.version, root, listen: args.listen, ports: [args.ports.from, args.ports.to] };
    return hostCommand(
      `${name}-tool`,
      {
        connection: args.host.connection,
        create: {
          script: "spark-pg/tool.sh",
          params: { CONFIG_JSON: JSON.stringify(config), INSTALL_DIR: SPARK_PG_INSTALL_DIR, ROOT: root, TOOL_FILES: SPARK_PG_FILES },
          files: SPARK_PG_FILES.map((file) => ({ content: readFileSync(path.join(HOST_TOOLS_DIR, file), "utf8") })),
        },
        delete: { script: "spark-pg/tool.delete.sh", params: { INSTALL_DIR: SPARK_PG_INSTALL_DIR, ROOT: root, TOOL_FILES: SPARK_PG_FILES } },
      },
      { parent: this, dependsOn },
    );
  }

  private createInstance(name: string, args: SparkPgArgs, instance: SparkPgInstanceArgs, dependsOn: pulumi.Resource[]) {
    return hostCommand(
      `${name}-instance-${instance.name}`,
      {
        connection: args.host.connection,
        create: { script: "spark-pg/instance.sh", params: { NAME: instance.name, FORK_OF: instance.forkOf ?? "" } },
        delete: { script: "spark-pg/instance.delete.sh", params: { NAME: instance.name } },
      },
      { parent: this, dependsOn, retainOnDelete: instance.protect ?? false },
    );
  }
}
