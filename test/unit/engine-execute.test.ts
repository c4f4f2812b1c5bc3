import { describe, expect, it } from "vitest";
import { executeSteps, type Provider } from "../../apply/engine/execute";
import { planDestroy, planUpdate } from "../../apply/engine/steps";
import type { StackState } from "../../apply/engine/types";
import { applied, CMD, goal, urn } from "./engine-fixtures";

const short = (u: string) => u.split("::").pop();

/** A provider that records what ran, in order, and fails the operations it is told to. */
function recordingProvider(options: { failOn?: string[]; delayMs?: (name: string) => number } = {}) {
  const events: string[] = [];
  let running = 0;
  let peak = 0;
  const operate = async (what: string) => {
    running++;
    peak = Math.max(peak, running);
    events.push(`start ${what}`);
    await new Promise((resolve) => setTimeout(resolve, options.delayMs?.(what) ?? 5));
    running--;
    events.push(`end ${what}`);
    if (options.failOn?.includes(what)) throw new Error(`${what} failed`);
  };
  const provider: Provider = {
    create: async (u, inputs) => (await operate(`create ${short(u)}`), { ...inputs }),
    update: async (u, _olds, news) => (await operate(`update ${short(u)}`), { ...news }),
    delete: async (u) => (await operate(`delete ${short(u)}`), true),
  };
  return { provider, events, peak: () => peak };
}

async function run(steps: ReturnType<typeof planUpdate>, state: StackState, provider: Provider, parallel = 8) {
  const checkpoints: StackState[] = [];
  const outcomes = await executeSteps(steps, state, {
    parallel,
    providers: { [CMD]: provider },
    checkpoint: async (s) => void checkpoints.push(s),
    log: () => undefined,
  });
  return { outcomes, final: checkpoints.at(-1) ?? state, checkpoints };
}

const stored = (state: StackState) => state.resources.map((r) => `${short(r.urn)}${r.pendingDelete ? " (condemned)" : ""}`);

describe("executing steps as the engine's step executor does", () => {
  it("starts a resource only once everything it depends on is done, and runs the independent ones together", async () => {
    const goals = [goal("root"), goal("x", { dependencies: [urn("root")] }), goal("y", { dependencies: [urn("root")] }), goal("z", { dependencies: [urn("x"), urn("y")] })];
    const { provider, events, peak } = recordingProvider({ delayMs: () => 20 });
    const { final } = await run(planUpdate(applied(), goals), applied(), provider);
    expect(events.indexOf("start create x")).toBeGreaterThan(events.indexOf("end create root"));
    expect(events.indexOf("start create z")).toBeGreaterThan(Math.max(events.indexOf("end create x"), events.indexOf("end create y")));
    expect(peak()).toBe(2);
    expect(stored(final)).toEqual(["root", "x", "y", "z"]);
  });

  it("runs at most --parallel operations at once", async () => {
    const goals = ["a", "b", "c", "d", "e"].map((n) => goal(n));
    const { provider, peak } = recordingProvider({ delayMs: () => 20 });
    await run(planUpdate(applied(), goals), applied(), provider, 2);
    expect(peak()).toBe(2);
  });

  it("runs nothing for an unchanged stack", async () => {
    const goals = [goal("a"), goal("b")];
    const { provider, events } = recordingProvider();
    const { outcomes } = await run(planUpdate(applied(...goals), goals), applied(...goals), provider);
    expect(events).toEqual([]);
    expect(outcomes.every((o) => o.operations.length === 0)).toBe(true);
  });

  it("after a failure starts nothing more, runs no deletes, records what finished and nothing of the failed create", async () => {
    const goals = [goal("ok"), goal("bad"), goal("after", { dependencies: [urn("bad")] })];
    const state = applied(goal("gone"));
    const { provider, events } = recordingProvider({ failOn: ["create bad"] });
    const { outcomes, final } = await run(planUpdate(state, goals), state, provider);
    expect(events).not.toContain("start create after");
    expect(events).not.toContain("start delete gone");
    expect(outcomes.find((o) => short(o.step.urn) === "bad")?.status).toBe("failed");
    expect(stored(final).sort()).toEqual(["gone", "ok"]);
  });

  it("keeps the old state of a failed update, so the next run tries again", async () => {
    const old = goal("a");
    const changed = { ...old, inputs: { ...old.inputs, create: "create a v2" } };
    const { provider } = recordingProvider({ failOn: ["update a"] });
    const { final } = await run(planUpdate(applied(old), [changed]), applied(old), provider);
    expect(final.resources[0].inputs.create).toBe("create a");
    expect(planUpdate(final, [changed])[0].kind).toBe("update");
  });

  it("a delete-first replace runs the stored delete, then the create", async () => {
    const old = goal("a");
    const replaced = { ...old, inputs: { create: "create a v2", delete: "delete a v2", triggers: ["2"] } };
    const deleted: unknown[] = [];
    const { provider, events } = recordingProvider();
    const { final } = await run(planUpdate(applied(old), [replaced]), applied(old), { ...provider, delete: async (u, olds) => (deleted.push(olds.inputs.delete), provider.delete(u, olds)) });
    expect(events.filter((e) => e.startsWith("start"))).toEqual(["start delete a", "start create a"]);
    expect(deleted).toEqual(["delete a"]);
    expect(final.resources[0].inputs.create).toBe("create a v2");
  });

  it("a create-first replace deletes the old resource after every create, under the same URN", async () => {
    const old = goal("a", { deleteBeforeReplace: false });
    const replaced = { ...old, inputs: { ...old.inputs, triggers: ["2"] } };
    const other = goal("b");
    const { provider, events, } = recordingProvider();
    const { final, checkpoints } = await run(planUpdate(applied(old), [replaced, other]), applied(old), provider);
    const starts = events.filter((e) => e.startsWith("start"));
    expect(starts.indexOf("start delete a")).toBe(starts.length - 1);
    expect(checkpoints.some((c) => stored(c).includes("a (condemned)"))).toBe(true);
    expect(stored(final).sort()).toEqual(["a", "b"]);
  });

  it("deletes dependents first, using the stored delete and never running a retained one", async () => {
    const state = applied(goal("base"), goal("mid", { dependencies: [urn("base")], retainOnDelete: true }), goal("top", { dependencies: [urn("mid")] }));
    const { provider, events } = recordingProvider();
    const { final } = await run(planDestroy(state), state, provider);
    expect(events.filter((e) => e.startsWith("start"))).toEqual(["start delete top", "start delete base"]);
    expect(final.resources).toEqual([]);
  });

  it("a refused protected delete lets the other deletes go on but keeps what it depends on", async () => {
    const state = applied(goal("base"), goal("data", { dependencies: [urn("base")], protect: true }), goal("loose", { dependencies: [urn("base")] }));
    const { provider, events } = recordingProvider();
    const { outcomes, final } = await run(planDestroy(state), state, provider);
    expect(events.filter((e) => e.startsWith("start"))).toEqual(["start delete loose"]);
    expect(outcomes.find((o) => short(o.step.urn) === "data")?.status).toBe("failed");
    expect(stored(final)).toEqual(["base", "data"]);
  });

  it("records a pending operation while it runs, and none once it ended", async () => {
    const { provider } = recordingProvider();
    const { checkpoints } = await run(planUpdate(applied(), [goal("a")]), applied(), provider);
    expect(checkpoints.some((c) => c.pendingOperations.some((p) => p.kind === "creating" && short(p.urn) === "a"))).toBe(true);
    expect(checkpoints.at(-1)?.pendingOperations).toEqual([]);
  });
});
