import * as pulumi from "@pulumi/pulumi";
import { runInPulumiStack } from "@pulumi/pulumi/runtime/stack";
import type { VerifyManifest } from "../verify/manifest";
import type { StackConfigMap } from "./stack-file";

/** Where a remote command runs, as the command provider receives it. */
export interface CommandConnection {
  host: string;
  port: number;
  user: string;
  hostKey?: string;
  privateKey?: string;
  dialErrorLimit?: number;
  perDialTimeout?: number;
}

/** One `command:remote:Command` of the program, in registration order. */
export interface PlannedCommand {
  name: string;
  connection: CommandConnection;
  create: string;
  delete?: string;
  stdin?: string;
  /** Destroy leaves what this command made in place (retainOnDelete). */
  retainOnDelete: boolean;
}

export interface EvaluatedStack {
  commands: PlannedCommand[];
  manifest: VerifyManifest;
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const REMOTE_COMMAND = "command:remote:Command";

/**
 * Runs the Pulumi program under Pulumi's mock runtime with the given config, the way the engine
 * would run it for `pulumi up`, and returns its remote commands in registration order (a resource
 * registers only once its dependencies have) and its verify manifest. Once per process: the mock
 * runtime is global.
 */
export async function evaluateStack(stack: string, config: StackConfigMap): Promise<EvaluatedStack> {
  const commands: PlannedCommand[] = [];
  const retained = new Set<string>();
  const registered: pulumi.Resource[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (resource) => {
        if (resource.type === REMOTE_COMMAND) commands.push(toPlannedCommand(resource.name, unwrapSecrets(resource.inputs)));
        return { id: `${resource.name}-id`, state: resource.inputs };
      },
      call: () => ({}),
    },
    "sparks",
    stack,
    false,
  );
  pulumi.runtime.setAllConfig(config.values, config.secretKeys);
  const outputs = await runInPulumiStack(async () => {
    // Mocks see no resource options; a stack transformation does, and tells which data destroy keeps.
    pulumi.runtime.registerStackTransformation((args) => {
      registered.push(args.resource);
      if (args.opts.retainOnDelete) retained.add(args.name);
      return undefined;
    });
    return { ...(await import("../stacks/index")) };
  });
  await Promise.all(registered.map((resource) => new Promise((resolve) => resource.urn.apply(resolve))));
  const manifest = outputs?.verifyManifest as VerifyManifest | undefined;
  if (!manifest) throw new Error("the program exported no verifyManifest");
  return {
    commands: commands.map((command) => ({ ...command, retainOnDelete: retained.has(command.name) })),
    manifest,
  };
}

function toPlannedCommand(name: string, inputs: Record<string, any>): PlannedCommand {
  return {
    name,
    connection: inputs.connection as CommandConnection,
    create: inputs.create as string,
    delete: inputs.delete as string | undefined,
    stdin: inputs.stdin as string | undefined,
    retainOnDelete: false,
  };
}

/** Mocks receive secrets wrapped in a signature object; the commands need the plain values. */
function unwrapSecrets(value: any): any {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value === null || typeof value !== "object") return value;
  if (value[SECRET_SIG] !== undefined && "value" in value) return unwrapSecrets(value.value);
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, unwrapSecrets(inner)]));
}
