// Resource goals and applied states for the engine's unit tests: a command with a create and a
// delete, as the components register them, unless a test says otherwise.
import { entryFromGoal } from "../../apply/engine/execute";
import type { ResourceGoal, StackState } from "../../apply/engine/types";

export const CMD = "command:remote:Command";

export const urn = (name: string, type = CMD, parents = "sparks:host:Host") => `urn:pulumi:t::sparks::${parents}$${type}::${name}`;

export function goal(name: string, over: Partial<ResourceGoal> = {}): ResourceGoal {
  return {
    urn: urn(name),
    type: CMD,
    name,
    custom: true,
    inputs: { create: `create ${name}`, delete: `delete ${name}` },
    dependencies: [],
    protect: false,
    retainOnDelete: false,
    deleteBeforeReplace: true,
    replaceOnChanges: ["triggers[*]"],
    aliases: [],
    ...over,
  };
}

/** The state after `goals` were all created. */
export const applied = (...goals: ResourceGoal[]): StackState => ({ version: 1, stack: "t", resources: goals.map((g) => entryFromGoal(g, {})), pendingOperations: [] });
