import { forwardDependencyOrder } from "./steps";
import type { ResourceGoal, StackState, StateResource, Step } from "./types";
import { urnName } from "./urn";

/** What a provider does for one resource type; errors reject with the provider's message. */
export interface Provider {
  create(urn: string, inputs: Record<string, unknown>): Promise<Record<string, unknown>>;
  update(urn: string, olds: StateResource, news: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Resolves to whether anything ran on the host (a command without `delete` runs nothing). */
  delete(urn: string, olds: StateResource): Promise<boolean>;
}

export interface ExecuteOptions {
  /** At most this many provider operations at once (`pulumi up --parallel`). */
  parallel: number;
  providers: Record<string, Provider>;
  /** Called after every change to the state, for the engine's checkpoint after each step. */
  checkpoint: (state: StackState) => Promise<void>;
  log: (line: string) => void;
}

export interface StepOutcome {
  step: Step;
  status: "done" | "failed" | "skipped";
  /** What ran: the provider operations of this step, e.g. ["delete", "create"] for a delete-first replace. */
  operations: ("create" | "update" | "delete")[];
  error?: string;
  seconds: number;
}

/**
 * Runs the steps the way the engine's step executor does: creates, updates and replaces over the
 * dependency graph, each once what it depends on is done, up to `parallel` at a time; then the
 * deletes, dependents first, one antichain after another (pkg/resource/deploy/deployment_executor.go
 * Execute, ScheduleDeletes). A failed step stops every step not yet started, and the deletes do not
 * run (step_executor.go cancelDueToError); a refused protected delete does not stop the others,
 * but what it depends on is kept (deployment_executor.go, erroredDeps). The state is written after
 * every step: a failed create leaves no entry, a failed update keeps the old one.
 */
export async function executeSteps(steps: readonly Step[], state: StackState, options: ExecuteOptions): Promise<StepOutcome[]> {
  const run = new StepRun(state, options);
  const [registered, deletes] = [steps.filter((s) => s.goal !== undefined), steps.filter((s) => s.goal === undefined)];
  await run.graph(registered);
  // Old resources a create-first replace left behind are deleted with the removed ones, at the end.
  const condemned = run.outcomes.filter((o) => o.status === "done" && o.step.kind === "replace" && !o.step.deleteFirst).map((o) => o.step);
  const deleteSteps = [...condemned.map((s): Step => ({ ...s, goal: undefined, kind: "delete", old: { ...(s.old as StateResource), pendingDelete: true } })), ...deletes];
  if (!run.cancelled) await run.antichains(deleteSteps);
  else for (const step of deletes) run.outcomes.push({ step, status: "skipped", operations: [], seconds: 0 });
  return run.outcomes;
}

class StepRun {
  readonly outcomes: StepOutcome[] = [];
  cancelled = false;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private state: StackState,
    private readonly options: ExecuteOptions,
  ) {}

  /** Each step starts once the steps of its dependencies and parent are done. */
  async graph(steps: readonly Step[]): Promise<void> {
    const done = new Map<string, Promise<boolean>>();
    const start = (step: Step): Promise<boolean> => {
      const goal = step.goal as ResourceGoal;
      const before = [...goal.dependencies, ...(goal.parent ? [goal.parent] : [])].map((urn) => done.get(urn)).filter((p) => p !== undefined);
      return Promise.all(before).then(async (results) => {
        if (this.cancelled || results.includes(false)) {
          this.outcomes.push({ step, status: "skipped", operations: [], seconds: 0 });
          return false;
        }
        return this.perform(step);
      });
    };
    // Registration order is a valid order: a resource registers only after what it depends on.
    for (const step of steps) done.set(step.urn, start(step));
    await Promise.all(done.values());
  }

  /** Deletes in antichains: a resource's delete waits for the deletes of everything that depends on it. */
  async antichains(steps: readonly Step[]): Promise<void> {
    const olds = steps.map((s) => s.old as StateResource);
    const level = new Map<string, number>();
    for (const resource of forwardDependencyOrder(olds).reverse()) {
      const dependents = olds.filter((o) => o.dependencies.includes(resource.urn) || o.parent === resource.urn);
      level.set(resource.urn, Math.max(0, ...dependents.map((d) => (level.get(d.urn) ?? 0) + 1)));
    }
    const kept = new Set<string>();
    const levels = [...new Set(level.values())].sort((a, b) => a - b);
    for (const current of levels) {
      if (this.cancelled) break;
      const chain = steps.filter((s) => level.get(s.urn) === current);
      await Promise.all(
        chain.map(async (step) => {
          if (kept.has(step.urn)) {
            this.outcomes.push({ step, status: "skipped", operations: [], seconds: 0 });
            return;
          }
          const ok = await this.perform(step);
          // What a failed delete depends on stays: deleting it would pull the floor from under it.
          if (!ok) this.keepDependenciesOf(step.old as StateResource, olds, kept);
        }),
      );
    }
  }

  private keepDependenciesOf(resource: StateResource, olds: StateResource[], kept: Set<string>): void {
    for (const urn of [...resource.dependencies, ...(resource.parent ? [resource.parent] : [])]) {
      const dependency = olds.find((o) => o.urn === urn);
      if (dependency && !kept.has(urn)) {
        kept.add(urn);
        this.keepDependenciesOf(dependency, olds, kept);
      }
    }
  }

  private async perform(step: Step): Promise<boolean> {
    const started = Date.now();
    const operations: StepOutcome["operations"] = [];
    const finish = (status: StepOutcome["status"], error?: string) => {
      this.outcomes.push({ step, status, operations, seconds: (Date.now() - started) / 1000, ...(error ? { error } : {}) });
      return status === "done";
    };
    if (step.refused) {
      // A refused protected delete lets the other deletes go on (step_executor.go cancelDueToError, deleteProtectedError).
      if (step.kind !== "delete") this.cancelled = true;
      return finish("failed", step.refused);
    }
    if (step.kind !== "same") this.options.log(`▶ ${step.kind} ${urnName(step.urn)}`);
    const provider = this.options.providers[step.type];
    const custom = step.goal ? step.goal.custom : (step.old as StateResource).custom;
    if (custom && provider === undefined) throw new Error(`no provider for ${step.type} (${step.urn})`);
    try {
      switch (step.kind) {
        case "same":
          await this.record(step.urn, entryFromGoal(step.goal as ResourceGoal, (step.old as StateResource).outputs), step.old?.urn);
          break;
        case "create": {
          const outputs = custom ? await this.operate(step, "create", () => provider.create(step.urn, (step.goal as ResourceGoal).inputs), operations) : {};
          await this.record(step.urn, entryFromGoal(step.goal as ResourceGoal, outputs));
          break;
        }
        case "update": {
          const outputs = await this.operate(step, "update", () => provider.update(step.urn, step.old as StateResource, (step.goal as ResourceGoal).inputs), operations);
          await this.record(step.urn, entryFromGoal(step.goal as ResourceGoal, outputs), step.old?.urn);
          break;
        }
        case "replace": {
          if (step.deleteFirst) {
            if (!step.retained) await this.operate(step, "delete", () => provider.delete(step.urn, step.old as StateResource), operations, (ran) => ran);
            await this.forget(step.urn);
          }
          const outputs = await this.operate(step, "create", () => provider.create(step.urn, (step.goal as ResourceGoal).inputs), operations);
          if (step.deleteFirst) await this.record(step.urn, entryFromGoal(step.goal as ResourceGoal, outputs));
          else await this.condemnAndRecord(step.urn, entryFromGoal(step.goal as ResourceGoal, outputs));
          break;
        }
        case "delete": {
          const old = step.old as StateResource;
          if (custom && !step.retained) await this.operate(step, "delete", () => provider.delete(step.urn, old), operations, (ran) => ran);
          await this.forget(step.urn, old);
          break;
        }
      }
      return finish("done");
    } catch (error) {
      this.cancelled = true;
      return finish("failed", error instanceof Error ? error.message : String(error));
    }
  }

  /** One provider operation, with its pending-operation record while it runs (the engine's checkpoint does the same). */
  private async operate<T>(
    step: Step,
    kind: "create" | "update" | "delete",
    operation: () => Promise<T>,
    operations: StepOutcome["operations"],
    ranSomething: (result: T) => boolean = () => true,
  ): Promise<T> {
    while (this.running >= this.options.parallel) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    const pending = { urn: step.urn, kind: kind === "create" ? ("creating" as const) : kind === "update" ? ("updating" as const) : ("deleting" as const) };
    await this.change((state) => ({ ...state, pendingOperations: [...state.pendingOperations, pending] }));
    try {
      const result = await operation();
      if (ranSomething(result)) operations.push(kind);
      return result;
    } catch (error) {
      operations.push(kind);
      throw error;
    } finally {
      await this.change((state) => ({ ...state, pendingOperations: state.pendingOperations.filter((p) => p !== pending) }));
      this.running--;
      this.waiting.shift()?.();
    }
  }

  private record(urn: string, entry: StateResource, previousUrn = urn): Promise<void> {
    return this.change((state) => {
      const resources = state.resources.filter((r) => !(r.urn === previousUrn && !r.pendingDelete) && !(r.urn === urn && !r.pendingDelete));
      return { ...state, resources: forwardDependencyOrder([...resources, entry]) };
    });
  }

  /** A create-first replace: the new entry takes the URN, the old one stays, marked for deletion, until its delete runs. */
  private condemnAndRecord(urn: string, entry: StateResource): Promise<void> {
    return this.change((state) => {
      const resources = state.resources.map((r) => (r.urn === urn && !r.pendingDelete ? { ...r, pendingDelete: true } : r));
      return { ...state, resources: forwardDependencyOrder([...resources, entry]) };
    });
  }

  private forget(urn: string, old?: StateResource): Promise<void> {
    return this.change((state) => {
      // A condemned old resource goes, never its replacement under the same URN.
      const index = state.resources.findIndex((r) => r.urn === urn && (old?.pendingDelete ? r.pendingDelete : !r.pendingDelete));
      return index < 0 ? state : { ...state, resources: state.resources.filter((_r, i) => i !== index) };
    });
  }

  /** State changes are applied and written one at a time, in the order they happen. */
  private change(update: (state: StackState) => StackState): Promise<void> {
    this.writing = this.writing.then(async () => {
      this.state = update(this.state);
      await this.options.checkpoint(this.state);
    });
    return this.writing;
  }
}

export function entryFromGoal(goal: ResourceGoal, outputs: Record<string, unknown>): StateResource {
  return {
    urn: goal.urn,
    type: goal.type,
    custom: goal.custom,
    ...(goal.parent ? { parent: goal.parent } : {}),
    inputs: goal.inputs,
    outputs,
    dependencies: goal.dependencies,
    protect: goal.protect,
    retainOnDelete: goal.retainOnDelete,
    deleteBeforeReplace: goal.deleteBeforeReplace,
  };
}
