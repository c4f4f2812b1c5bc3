import type { ResourceGoal, StackState, StateResource, Step } from "./types";
import { newUrn, qualifiedType, urnName } from "./urn";
import { sameValue, unwrapSecrets } from "./values";

export interface StepOptions {
  /** `pulumi up --replace URN`: replace these even when their inputs are the same. */
  replace?: readonly string[];
}

/**
 * The steps `pulumi up` takes for this program against this state, in the program's registration
 * order, followed by the deletes of what the program no longer declares (reverse dependency order).
 * Pure: nothing runs here. Each rule names the engine source it mirrors.
 */
export function planUpdate(state: StackState, goals: readonly ResourceGoal[], options: StepOptions = {}): Step[] {
  const live = state.resources.filter((resource) => !resource.pendingDelete);
  const stored = new Map(live.map((resource) => [resource.urn, resource]));
  const claimed = new Set<string>();
  const forced = new Set(options.replace ?? []);
  /** The old URN a resource was found by, when an alias found it: its children inherit it. */
  const matchedAlias = new Map<string, string>();
  const steps: Step[] = goals.map((goal) => {
    // An old resource is found by the new URN, else by one of the goal's aliases, its own or inherited from
    // its parent's (pkg/resource/deploy/step_generator.go getOldResource, generateAliases).
    const aliases = [...goal.aliases, ...inheritedAliases(goal, matchedAlias.get(goal.parent ?? ""))];
    const old = [goal.urn, ...aliases].map((urn) => stored.get(urn)).find((found) => found !== undefined && !claimed.has(found.urn));
    if (old === undefined) return { kind: "create", urn: goal.urn, type: goal.type, goal };
    claimed.add(old.urn);
    if (old.urn !== goal.urn) matchedAlias.set(goal.urn, old.urn);
    return diffStep(goal, old, forced.has(goal.urn));
  });
  // Whatever the program no longer registers is deleted once the program has finished
  // (pkg/resource/deploy/step_generator.go GenerateDeletes), children before what they depend on.
  // An old resource a failed run left condemned (create-first replace) is deleted too (step_generator.go GenerateDeletes, res.Delete).
  const deletes = reverseDependencyOrder(state.resources.filter((resource) => resource.pendingDelete || !claimed.has(resource.urn)));
  return [...steps, ...deletes.map(deleteStep)];
}

export interface DestroyOptions {
  /** `pulumi destroy --exclude-protected`: keep protected resources and everything they depend on. */
  excludeProtected?: boolean;
}

/** `pulumi destroy`: every stored resource, dependents first. */
export function planDestroy(state: StackState, options: DestroyOptions = {}): Step[] {
  const kept = options.excludeProtected ? protectedClosure(state.resources) : new Set<string>();
  return reverseDependencyOrder(state.resources.filter((resource) => !kept.has(resource.urn))).map(deleteStep);
}

function deleteStep(old: StateResource): Step {
  const step: Step = { kind: "delete", urn: old.urn, type: old.type, old, retained: old.retainOnDelete };
  // A protected resource is never deleted; the step fails when it runs (pkg/resource/deploy/step.go DeleteStep.Apply, deleteProtectedError).
  if (old.protect) step.refused = `resource ${old.urn} cannot be deleted because it is protected`;
  return step;
}

/**
 * Protected resources and everything they need to stay: their dependencies and parents, transitively
 * (pkg/cmd/pulumi/operations/destroy.go getProtectedExcludes, for --exclude-protected).
 */
function protectedClosure(resources: readonly StateResource[]): Set<string> {
  const byUrn = new Map(resources.map((resource) => [resource.urn, resource]));
  const kept = new Set<string>();
  const keep = (urn: string) => {
    const resource = byUrn.get(urn);
    if (resource === undefined || kept.has(urn)) return;
    kept.add(urn);
    [...resource.dependencies, ...(resource.parent ? [resource.parent] : [])].forEach(keep);
  };
  resources.filter((resource) => resource.protect).forEach((resource) => keep(resource.urn));
  return kept;
}

/**
 * A child of a resource found by an alias is looked for under that old parent too, with the old
 * parent's name in place of the new one where the child's name starts with it
 * (step_generator.go inheritedChildAlias).
 */
function inheritedAliases(goal: ResourceGoal, parentAlias: string | undefined): string[] {
  if (parentAlias === undefined || goal.parent === undefined) return [];
  const parentName = urnName(goal.parent);
  const inherit = (type: string, name: string) => {
    const aliasName = name.startsWith(parentName) ? `${urnName(parentAlias)}${name.slice(parentName.length)}` : name;
    const [stack, project] = /^urn:pulumi:([^:]*)::([^:]*)::/.exec(goal.urn)?.slice(1) ?? [];
    return newUrn(stack, project, parentAlias, type, aliasName);
  };
  return [inherit(goal.type, goal.name), ...goal.aliases.map((alias) => inherit(qualifiedType(alias).split("$").pop() as string, urnName(alias)))];
}

function diffStep(goal: ResourceGoal, old: StateResource, forced: boolean): Step {
  const base = { urn: goal.urn, type: goal.type, goal, old };
  // Components have no provider: the engine records them, it diffs nothing (step_generator.go generateSteps, !goal.Custom).
  if (!goal.custom) return { ...base, kind: "same" };
  const changedKeys = changedInputKeys(old.inputs, goal.inputs);
  // A change to a replaceOnChanges path forces a replace (step_generator.go applyReplaceOnChanges); the
  // command SDK declares `triggers[*]` (sdk/nodejs/remote/command.ts), and the provider's own diff
  // replaces on nothing else (pulumi-command common/inputs.go: `provider:"replaceOnChanges"` on triggers only).
  const replaceKeys = changedKeys.filter((key) => goal.replaceOnChanges.some((path) => topLevelKey(path) === key));
  if (forced || replaceKeys.length > 0) {
    // A replace deletes, so it is refused while the resource is protected in both the state and the
    // program; unprotecting and replacing in one update is allowed (step_generator.go generateSteps).
    const refused = goal.protect && old.protect ? `unable to replace resource ${goal.urn} as it is currently marked for protection` : undefined;
    return {
      ...(refused ? { refused } : {}),
      ...base,
      kind: "replace",
      changedKeys,
      replaceReason: forced ? "--replace" : replaceKeys.join(", "),
      // The goal's deleteBeforeReplace decides the order (step_generator.go generateSteps, "deleteBeforeReplace").
      deleteFirst: goal.deleteBeforeReplace,
      // retainOnDelete skips the old resource's delete in a replace too (step.go DeleteStep.Apply).
      retained: old.retainOnDelete,
    };
  }
  // Any other input change is an in-place update: the provider runs `update`, or `create` when none is set
  // (pulumi-command remote/commandController.go Update).
  if (changedKeys.length > 0) return { ...base, kind: "update", changedKeys };
  // Same inputs: nothing runs, and options (protect, retainOnDelete...) are recorded from the goal (step.go SameStep).
  return { ...base, kind: "same" };
}

/** Top-level input keys whose plain values differ (secrets compared by value, as the provider sees them). */
export function changedInputKeys(olds: Record<string, unknown>, news: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(olds), ...Object.keys(news)])].sort();
  return keys.filter((key) => !sameValue(unwrapSecrets(olds[key]), unwrapSecrets(news[key])));
}

function topLevelKey(path: string): string {
  return path.split(/[.[]/)[0];
}

/**
 * Resources ordered so that each comes before everything it depends on (and before its parent):
 * the order deletes may run in (pkg/resource/deploy/step_generator.go scheduleDeletes).
 */
export function reverseDependencyOrder(resources: readonly StateResource[]): StateResource[] {
  return forwardDependencyOrder(resources).reverse();
}

/** Resources ordered so that each follows everything it depends on and its parent. */
export function forwardDependencyOrder<T extends { urn: string; dependencies: string[]; parent?: string }>(resources: readonly T[]): T[] {
  const byUrn = new Map(resources.map((resource) => [resource.urn, resource]));
  const ordered: T[] = [];
  // By entry, not URN: a condemned old resource shares its URN with its replacement.
  const seen = new Set<T>();
  const visit = (resource: T) => {
    if (seen.has(resource)) return;
    seen.add(resource);
    for (const urn of [...resource.dependencies, ...(resource.parent ? [resource.parent] : [])]) {
      const before = byUrn.get(urn);
      if (before) visit(before);
    }
    ordered.push(resource);
  };
  resources.forEach(visit);
  return ordered;
}
