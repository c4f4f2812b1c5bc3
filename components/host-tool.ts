import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { Host } from "./host";
import { hostCommand } from "./host-command";

/** Where the host tools' source lives in this repository. */
export const HOST_TOOLS_DIR = path.join(__dirname, "..", "host-tools");

/** Each tool's own home on the host, so that no tool prunes another's modules. */
export const hostToolInstallDir = (tool: string): string => `/usr/local/lib/sparks/${tool}`;

/** A host tool of the sparks_host family (spark-pg, spark-redis) and the instances it runs. */
export interface HostToolArgs {
  host: Host;
  /** The command, e.g. "spark-pg": also its unit template `<tool>@.service` and its config `/etc/sparks/<tool>.json`. */
  tool: string;
  /** The tool's files, relative to HOST_TOOLS_DIR, in the order they ride to the host (fd 4, 5, ...). */
  files: readonly string[];
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

/**
 * `<name>-tool`: installs the tool, its config and units; its delete takes them all back once no
 * instance remains under the root (components/scripts/host-tool/remove.sh).
 */
export function hostToolCommand(name: string, args: HostToolArgs, opts: pulumi.CustomResourceOptions) {
  const installDir = hostToolInstallDir(args.tool);
  const common = { INSTALL_DIR: installDir, ROOT: args.root, TOOL: args.tool, TOOL_FILES: args.files };
  return hostCommand(
    `${name}-tool`,
    {
      connection: args.host.connection,
      create: {
        script: "host-tool/install.sh",
        params: { CONFIG_JSON: JSON.stringify(args.config), ...common },
        files: args.files.map((file) => ({ content: readFileSync(path.join(HOST_TOOLS_DIR, file), "utf8") })),
      },
      delete: { script: "host-tool/remove.sh", params: common },
    },
    opts,
  );
}

/**
 * One command per declared instance (`<tool> ensure`, destroyed with `<tool> destroy`), in order; a
 * fork depends on its source. `settings`, when given, re-runs every ensure when it changes.
 */
export function toolInstanceCommands(
  name: string,
  args: { host: Host; tool: string; instances: readonly ToolInstanceArgs[]; settings?: string },
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
        connection: args.host.connection,
        create: { script: "host-tool/instance.sh", params: { ...params, FORK_OF: instance.forkOf ?? "", ...(args.settings ? { SETTINGS: args.settings } : {}) } },
        delete: { script: "host-tool/instance.delete.sh", params },
      },
      { ...opts, dependsOn: [...opts.dependsOn, ...(source ? [source] : [])], retainOnDelete: instance.protect ?? false },
    );
    created.set(instance.name, command);
  }
}
