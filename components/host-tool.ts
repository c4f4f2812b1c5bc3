import type * as pulumi from "@pulumi/pulumi";
import { formatSize } from "../lib/size";
import type { SparkPgInstanceExpectation } from "../verify/manifest";
import { HOST_TOOL_FILES, type HostToolName, shippedToolDir } from "./bundle";
import type { Host } from "./host";
import { hostCommand } from "./host-command";
import { BUNDLE_REMOTE_DIR } from "./host-script";

export { HOST_TOOLS_DIR } from "./bundle";

/** Each tool's own home on the host, so that no tool prunes another's modules. */
export const hostToolInstallDir = (tool: string): string => `/usr/local/lib/sparks/${tool}`;

/** A host tool of the sparks_host family (spark-pg, spark-redis) and the instances it runs. */
export interface HostToolArgs {
  host: Host;
  /** The command, e.g. "spark-pg": also its unit template `<tool>@.service` and its config `/etc/sparks/<tool>.json`. */
  tool: HostToolName;
  /** Written to /etc/sparks/<tool>.json. */
  config: object;
  /** The instance root: a mounted subvolume. */
  root: string;
}

export interface ToolInstanceArgs {
  name: string;
  /** Created as a fork of this instance, declared before it; default created empty. */
  forkOf?: string;
  /** Destroy leaves the instance in place (retainOnDelete); default false. */
  protect?: boolean;
}

/** What verify expects of each declared instance: its source, and for a fork the limit on its own writes. */
export function expectedInstances(instances: readonly ToolInstanceArgs[], forkLimitBytes: number): SparkPgInstanceExpectation[] {
  return instances.map((i) =>
    i.forkOf === undefined ? { name: i.name } : { name: i.name, forkOf: i.forkOf, ...(forkLimitBytes > 0 ? { forkLimitBytes } : {}) },
  );
}

/**
 * `<name>-tool`: installs the tool, its config and units; its delete takes them all back once no
 * instance remains under the root (components/scripts/host-tool/remove.sh).
 */
export function hostToolCommand(name: string, args: HostToolArgs, opts: pulumi.CustomResourceOptions) {
  const installDir = hostToolInstallDir(args.tool);
  const common = { INSTALL_DIR: installDir, ROOT: args.root, TOOL: args.tool, TOOL_FILES: HOST_TOOL_FILES[args.tool] };
  return hostCommand(
    `${name}-tool`,
    {
      host: args.host,
      create: {
        script: "host-tool/install.sh",
        // The tool's version is its shipped directory, so a reviewer sees a tool change as one changed path.
        params: { CONFIG_JSON: JSON.stringify(args.config), SOURCE_DIR: `${BUNDLE_REMOTE_DIR}/${shippedToolDir(args.tool)}`, ...common },
      },
      delete: { script: "host-tool/remove.sh", params: common },
    },
    opts,
  );
}

/**
 * One command per declared instance (`<tool> ensure`, destroyed with `<tool> destroy`), in order; a
 * fork depends on its source. `settings` (readable `key=value` lines in the header) re-run every
 * ensure when one changes, and ensure applies them as `onChange` says (default: with a restart).
 */
export function toolInstanceCommands(
  name: string,
  args: { host: Host; tool: HostToolName; instances: readonly ToolInstanceArgs[]; settings?: readonly string[]; onChange?: string; forkLimitBytes?: number },
  opts: pulumi.CustomResourceOptions & { dependsOn: pulumi.Resource[] },
): void {
  const created = new Map<string, pulumi.Resource>();
  for (const instance of args.instances) {
    const source = instance.forkOf === undefined ? undefined : created.get(instance.forkOf);
    if (instance.forkOf !== undefined && source === undefined) {
      throw new Error(`${name}: instance ${instance.name} forks ${instance.forkOf}, which is not declared before it`);
    }
    const params = { NAME: instance.name, TOOL: args.tool };
    const command = hostCommand(
      `${name}-instance-${instance.name}`,
      {
        host: args.host,
        create: {
          script: "host-tool/instance.sh",
          params: {
            ...params,
            FORK_OF: instance.forkOf ?? "",
            // Here so that a new limit re-runs ensure, which sets it on the fork.
            ...(instance.forkOf !== undefined && (args.forkLimitBytes ?? 0) > 0 ? { FORK_LIMIT: formatSize(args.forkLimitBytes ?? 0) } : {}),
            ...(args.settings ? { SETTINGS: args.settings, ON_CHANGE: args.onChange ?? "SETTINGS: restarts the instance" } : {}),
          },
        },
        delete: { script: "host-tool/instance.delete.sh", params },
      },
      { ...opts, dependsOn: [...opts.dependsOn, ...(source ? [source] : [])], protect: instance.protect ?? false, retainOnDelete: instance.protect ?? false },
    );
    created.set(instance.name, command);
  }
}
