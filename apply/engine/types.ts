/**
 * What the program asked for, one resource as the engine receives it in a RegisterResourceRequest
 * (proto/resource.proto): the sandbox engine decides its step from this and the stored state.
 */
export interface ResourceGoal {
  urn: string;
  type: string;
  name: string;
  /** A provider resource (a remote command); components run nothing. */
  custom: boolean;
  parent?: string;
  /** Inputs in their wire form: secrets and assets keep their signature objects. */
  inputs: Record<string, unknown>;
  /** URNs this resource waits for: dependsOn and every Output it was given, components expanded to their children. */
  dependencies: string[];
  protect: boolean;
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  /** Input paths whose change replaces the resource (`triggers[*]` for commands). */
  replaceOnChanges: string[];
  /** URNs this resource was known by before (resolved alias specs). */
  aliases: string[];
}

/** One resource in the stack's state (the engine's checkpoint, `pulumi stack export`). */
export interface StateResource {
  urn: string;
  type: string;
  custom: boolean;
  parent?: string;
  /** Inputs as last applied, in wire form (secrets encrypted in the file). */
  inputs: Record<string, unknown>;
  /** What the provider returned: for a command, its stdout and stderr. */
  outputs: Record<string, unknown>;
  dependencies: string[];
  protect: boolean;
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  /** Replaced by a new resource of the same URN (create first); its delete is still to run (the engine's `delete: true`). */
  pendingDelete?: boolean;
}

export interface StackState {
  version: 1;
  stack: string;
  /** In an order where every resource follows what it depends on. */
  resources: StateResource[];
  /**
   * Operations that started and had not ended when the state was last written: the engine records
   * them so an interrupted run is visible (pkg/resource/deploy/snapshot.go PendingOperations).
   */
  pendingOperations: { urn: string; kind: "creating" | "updating" | "deleting" }[];
}

export type StepKind = "same" | "create" | "update" | "replace" | "delete";

/** What the engine will do about one resource. */
export interface Step {
  kind: StepKind;
  urn: string;
  type: string;
  /** Absent for a delete: the resource is no longer in the program. */
  goal?: ResourceGoal;
  /** The stored state this step starts from; absent for a create. */
  old?: StateResource;
  /** A replace: the old resource's delete runs first (deleteBeforeReplace) or after every create. */
  deleteFirst?: boolean;
  /** Input keys that differ, for updates and replaces. */
  changedKeys?: string[];
  /** Why a replace replaces: the keys that forced it, or `--replace`. */
  replaceReason?: string;
  /** A delete or replace whose delete the engine skips (retainOnDelete). */
  retained?: boolean;
  /** Why the engine refuses this step (protect); the run stops when it reaches it. */
  refused?: string;
}
