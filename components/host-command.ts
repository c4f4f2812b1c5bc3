import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { renderRemoteCommand } from "./host-script";
import type { ScriptParams } from "./shell";

/** A host script and the values its header sets. */
export interface ScriptCall {
  /** Path under components/scripts, e.g. "btrfs-volume/mount.sh". */
  script: string;
  params: ScriptParams;
}

export interface HostCommandArgs {
  connection: command.types.input.remote.ConnectionArgs;
  /** Runs on create and on any in-place update. */
  create: ScriptCall;
  /** Runs on destroy (and after a replacement); default nothing. */
  delete?: ScriptCall;
  /** Secrets for the script, sent on stdin so they never appear in the command or a diff. */
  stdin?: pulumi.Input<string>;
  /** Values whose change must replace the command (run delete, then create) instead of re-running create. */
  replaceOn?: pulumi.Input<unknown>[];
}

/** One remote command: one concern of one component on one host. */
export function hostCommand(
  name: string,
  args: HostCommandArgs,
  opts: pulumi.CustomResourceOptions,
): command.remote.Command {
  return new command.remote.Command(
    name,
    {
      connection: args.connection,
      create: renderRemoteCommand(args.create.script, args.create.params),
      delete: args.delete && renderRemoteCommand(args.delete.script, args.delete.params),
      stdin: args.stdin,
      triggers: args.replaceOn,
      logging: "stdoutAndStderr",
    },
    {
      ...opts,
      deleteBeforeReplace: args.replaceOn !== undefined,
      additionalSecretOutputs: args.stdin === undefined ? undefined : ["stdout", "stderr"],
    },
  );
}
