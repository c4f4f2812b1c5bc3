import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { type CarriedFile, renderRemoteCommand } from "./host-script";
import type { ScriptParams } from "./shell";

/** A host script and the values its header sets. */
export interface ScriptCall {
  /** Path under components/scripts, e.g. "btrfs-volume/mount.sh". */
  script: string;
  params: ScriptParams;
  /** Files the script reads from fd 4, 5, ... in this order; default none. */
  files?: readonly CarriedFile[];
}

export interface HostCommandArgs {
  connection: command.types.input.remote.ConnectionArgs;
  /** Runs on create and on any in-place update. */
  create: ScriptCall;
  /**
   * Runs when the resource is deleted: on destroy, when it leaves the program (a rename deletes
   * the old name after creating the new one), and on a replacement (`replaceOn`), before the
   * replacement's create. Never with `retainOnDelete`. Default nothing.
   */
  delete?: ScriptCall;
  /** Secrets for the script, sent on stdin so they never appear in the command or a diff. */
  stdin?: pulumi.Input<string>;
  /** Values whose change must replace the command (run delete, then create) instead of re-running create. */
  replaceOn?: pulumi.Input<unknown>[];
}

/**
 * One remote command: one concern of one component on one host. Its scripts get its resource name
 * as `RESOURCE`, which they record in the ownership markers of what they manage (lib/owner.sh).
 */
export function hostCommand(
  name: string,
  args: HostCommandArgs,
  opts: pulumi.CustomResourceOptions,
): command.remote.Command {
  const render = (call: ScriptCall) => renderRemoteCommand(call.script, { ...call.params, RESOURCE: name }, call.files);
  return new command.remote.Command(
    name,
    {
      connection: args.connection,
      create: render(args.create),
      delete: args.delete && render(args.delete),
      stdin: args.stdin,
      triggers: args.replaceOn,
      logging: "stdoutAndStderr",
      // The provider would pass the previous output through SSH setenv, which stock sshd refuses.
      addPreviousOutputInEnv: false,
    },
    {
      ...opts,
      deleteBeforeReplace: args.replaceOn !== undefined,
      additionalSecretOutputs: args.stdin === undefined ? undefined : ["stdout", "stderr"],
    },
  );
}
