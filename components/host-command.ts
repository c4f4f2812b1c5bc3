import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { childUrn } from "./component";
import { type CarriedFile, renderInlineCommand, renderRemoteCommand } from "./host-script";
import type { ScriptParams } from "./shell";

/** A host script and the values its header sets. */
export interface ScriptCall {
  /** Path under components/scripts, e.g. "btrfs-volume/mount.sh". */
  script: string;
  params: ScriptParams;
  /** Files the script reads from fd 4, 5, ... in this order; default none. */
  files?: readonly CarriedFile[];
}

/** Where a command runs: the host's connection, and its converge value (`sparks:converge`). */
export interface CommandTarget {
  connection: command.types.input.remote.ConnectionArgs;
  /** In every command's header: changing it re-runs every create as an update, which converges a drifted host. */
  converge: string;
}

export interface HostCommandArgs {
  host: CommandTarget;
  /** Carry the whole script in the command instead of calling its shipped copy; only for what runs before the bundle is shipped. */
  inline?: boolean;
  /** Runs on create and on any in-place update. */
  create: ScriptCall;
  /**
   * Runs when the resource is deleted: on destroy, when it leaves the program (a rename deletes
   * the old name after creating the new one), and on a replacement (`replaceOn`), before the
   * replacement's create (deleteBeforeReplace). Never with `retainOnDelete`. Default nothing.
   */
  delete?: ScriptCall;
  /** Secrets for the script, sent on stdin so they never appear in the command or a diff. */
  stdin?: pulumi.Input<string>;
  /** Values whose change must replace the command (run delete, then create) instead of re-running create. */
  replaceOn?: pulumi.Input<unknown>[];
}

const COMMAND_TYPE = "command:remote:Command";

/**
 * One remote command: one concern of one component on one host. Its scripts get the command's URN
 * as `RESOURCE`, which they record in the ownership claims of what they manage (lib/owner.sh): a
 * rename or a refactor that moves the command (a new URN) makes a new owner, so the old command's
 * delete, which the engine runs after the new one's create, finds the claim taken and leaves the data.
 */
export function hostCommand(name: string, args: HostCommandArgs, opts: pulumi.CustomResourceOptions): command.remote.Command {
  const urn = childUrn(opts.parent, COMMAND_TYPE, name);
  const renderer = args.inline ? renderInlineCommand : renderRemoteCommand;
  const render = (call: ScriptCall) => renderer(call.script, { ...call.params, CONVERGE: args.host.converge, RESOURCE: urn }, call.files);
  return new command.remote.Command(
    name,
    {
      connection: args.host.connection,
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
      // A delete and the create that replaces it act on the same thing on the host: the old one goes first.
      deleteBeforeReplace: args.delete !== undefined,
      additionalSecretOutputs: args.stdin === undefined ? undefined : ["stdout", "stderr"],
    },
  );
}
