import { describe, expect, it } from "vitest";
import { planDestroy, planUpdate } from "../../apply/engine/steps";
import type { ResourceGoal, StackState, StateResource } from "../../apply/engine/types";
import { applied, CMD, goal, urn } from "./engine-fixtures";

const kinds = (steps: { kind: string; urn: string }[]) => steps.map((s) => `${s.kind} ${s.urn.split("::").pop()}`);

describe("the engine's step for each resource (pkg/resource/deploy/step_generator.go)", () => {
  const a = goal("a");
  const b = goal("b", { dependencies: [urn("a")] });

  const table: [string, StackState, ResourceGoal[], string[]][] = [
    ["nothing stored: every resource is created", applied(), [a, b], ["create a", "create b"]],
    ["unchanged inputs: same, nothing runs", applied(a, b), [a, b], ["same a", "same b"]],
    ["a changed create: update in place", applied(a, b), [{ ...a, inputs: { ...a.inputs, create: "create a v2" } }, b], ["update a", "same b"]],
    ["a changed delete alone is an update too", applied(a), [{ ...a, inputs: { ...a.inputs, delete: "delete a v2" } }], ["update a"]],
    ["changed triggers: replace", applied(a), [{ ...a, inputs: { ...a.inputs, triggers: ["x"] } }], ["replace a"]],
    ["only options changed (protect): same, options recorded", applied(a), [{ ...a, protect: true }], ["same a"]],
    ["gone from the program: deleted after the rest, dependents first", applied(a, b), [], ["delete b", "delete a"]],
    ["renamed without alias: the new one is created, the old one deleted", applied(a), [goal("a2")], ["create a2", "delete a"]],
    ["moved to another parent without alias: a new URN, so create + delete", applied(a), [{ ...a, urn: urn("a", CMD, "sparks:host:Host$sparks:x:Y") }], ["create a", "delete a"]],
    ["moved with an alias to the old URN: the same resource", applied(a), [{ ...a, urn: urn("a", CMD, "sparks:host:Host$sparks:x:Y"), aliases: [urn("a")] }], ["same a"]],
    ["components run nothing: same once stored", applied(goal("c", { type: "sparks:host:Host", custom: false, urn: urn("c", "sparks:host:Host", "") })), [goal("c", { type: "sparks:host:Host", custom: false, urn: urn("c", "sparks:host:Host", "") })], ["same c"]],
  ];

  it.each(table)("%s", (_case, state, goals, expected) => {
    expect(kinds(planUpdate(state, goals))).toEqual(expected);
  });

  it("finds a child under its parent's old URN when the parent is found by an alias (a renamed component type)", () => {
    const oldParent = goal("svc", { type: "sparks:old:Svc", custom: false, urn: "urn:pulumi:t::sparks::sparks:old:Svc::svc" });
    const oldChild = goal("svc-cmd", { urn: "urn:pulumi:t::sparks::sparks:old:Svc$command:remote:Command::svc-cmd", parent: oldParent.urn });
    const newParent = { ...oldParent, type: "sparks:new:Svc", urn: "urn:pulumi:t::sparks::sparks:new:Svc::svc", aliases: [oldParent.urn] };
    const newChild = { ...oldChild, urn: "urn:pulumi:t::sparks::sparks:new:Svc$command:remote:Command::svc-cmd", parent: newParent.urn };
    expect(kinds(planUpdate(applied(oldParent, oldChild), [newParent, newChild]))).toEqual(["same svc", "same svc-cmd"]);
    // Without the alias: both are new, and the old ones are deleted.
    expect(kinds(planUpdate(applied(oldParent, oldChild), [{ ...newParent, aliases: [] }, newChild]))).toEqual(["create svc", "create svc-cmd", "delete svc-cmd", "delete svc"]);
  });

  it("names the input keys that changed", () => {
    const [step] = planUpdate(applied(a), [{ ...a, inputs: { ...a.inputs, create: "v2", stdin: "s" } }]);
    expect(step.changedKeys).toEqual(["create", "stdin"]);
  });

  it("compares secrets by value: the same secret is no change", () => {
    const secret = (value: string) => ({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value });
    const withKey = (key: string) => ({ ...a, inputs: { ...a.inputs, connection: secret(key) } });
    expect(kinds(planUpdate(applied(withKey("k1")), [withKey("k1")]))).toEqual(["same a"]);
    expect(kinds(planUpdate(applied(withKey("k1")), [withKey("k2")]))).toEqual(["update a"]);
  });

  it("replaces delete-first with deleteBeforeReplace, create-first without it", () => {
    const triggered = (g: ResourceGoal) => ({ ...g, inputs: { ...g.inputs, triggers: ["new"] } });
    expect(planUpdate(applied(a), [triggered(a)])[0]).toMatchObject({ kind: "replace", deleteFirst: true, replaceReason: "triggers" });
    const late = goal("late", { deleteBeforeReplace: false });
    expect(planUpdate(applied(late), [triggered(late)])[0]).toMatchObject({ kind: "replace", deleteFirst: false });
  });

  it("`--replace` forces a replace of unchanged inputs", () => {
    expect(planUpdate(applied(a, b), [a, b], { replace: [urn("a")] }).map((s) => s.kind)).toEqual(["replace", "same"]);
  });

  it("refuses to replace a resource protected in the state and the program, but allows unprotect-and-replace in one update", () => {
    const guarded = goal("g", { protect: true });
    const triggered = { ...guarded, inputs: { ...guarded.inputs, triggers: ["x"] } };
    expect(planUpdate(applied(guarded), [triggered])[0].refused).toMatch(/marked for protection/);
    expect(planUpdate(applied(guarded), [{ ...triggered, protect: false }])[0].refused).toBeUndefined();
    expect(planUpdate(applied(guarded), [guarded], { replace: [guarded.urn] })[0].refused).toMatch(/marked for protection/);
  });

  it("refuses the delete of a protected resource that left the program", () => {
    const [step] = planUpdate(applied(goal("g", { protect: true })), []);
    expect(step).toMatchObject({ kind: "delete" });
    expect(step.refused).toMatch(/cannot be deleted because it is protected/);
  });

  it("skips the delete of a retainOnDelete resource, in a delete and in a replace", () => {
    const kept = goal("k", { retainOnDelete: true });
    expect(planUpdate(applied(kept), [])[0]).toMatchObject({ kind: "delete", retained: true });
    expect(planUpdate(applied(kept), [{ ...kept, inputs: { ...kept.inputs, triggers: [1] } }])[0]).toMatchObject({ kind: "replace", retained: true });
  });

  it("deletes an old resource a failed run left condemned (create-first replace)", () => {
    const state = applied(a);
    state.resources.push({ ...(state.resources[0] as StateResource), pendingDelete: true });
    expect(kinds(planUpdate(state, [a]))).toEqual(["same a", "delete a"]);
  });
});

describe("destroy (pulumi destroy)", () => {
  const mount = goal("mount");
  const sub = goal("sub", { dependencies: [urn("mount")], protect: true });
  const other = goal("other", { dependencies: [urn("mount")] });

  it("deletes everything in the state, dependents first, and refuses what is protected", () => {
    const steps = planDestroy(applied(mount, sub, other));
    expect(kinds(steps)).toEqual(["delete other", "delete sub", "delete mount"]);
    expect(steps.find((s) => s.urn === urn("sub"))?.refused).toMatch(/protected/);
  });

  it("--exclude-protected keeps protected resources and what they depend on (destroy.go getProtectedExcludes)", () => {
    expect(kinds(planDestroy(applied(mount, sub, other), { excludeProtected: true }))).toEqual(["delete other"]);
  });
});
