import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planUpdate } from "../../apply/engine/steps";
import type { ResourceGoal, StackState } from "../../apply/engine/types";
import { urnName } from "../../apply/engine/urn";
import { parseShellWords } from "../../lib/shell-quote";
import { copyProgram, type Recorded, recordProgram, renameRedisType } from "../fixtures/program-copy";
import { headerParams } from "./support";

const ROOT = path.resolve(__dirname, "../..");
const STATES = path.join(ROOT, "test-results", "urn-states");
const STACKS = ["sandbox", "dev", "prod"] as const;
const snapshotFile = (stack: string) => path.join(__dirname, "__snapshots__", `urns-${stack}.txt`);

const record = (stack: string, root?: string) => recordProgram(stack, STATES, root);

/**
 * What `pulumi up` would do to the resources of the URN snapshot (`urn parent` per line) given
 * these goals: the ones it would delete (their URN is gone and no alias, own or inherited from a
 * parent, finds them) and the ones it would create.
 */
export function urnChanges(snapshot: string, goals: ResourceGoal[]): { deleted: string[]; created: string[] } {
  const resources = snapshot.trim().split("\n").map((line) => {
    const [urn, parent] = line.split(" ");
    return { urn, type: "", custom: true, ...(parent ? { parent } : {}), inputs: {}, outputs: {}, dependencies: [], protect: false, retainOnDelete: false, deleteBeforeReplace: false };
  });
  const state: StackState = { version: 1, stack: "", resources, pendingOperations: [] };
  const steps = planUpdate(state, goals.map((goal) => ({ ...goal, custom: false })));
  return { deleted: steps.filter((s) => s.kind === "delete").map((s) => s.urn), created: steps.filter((s) => s.kind === "create").map((s) => s.urn) };
}

const snapshotOf = (goals: ResourceGoal[]) => `${goals.map((goal) => `${goal.urn}${goal.parent ? ` ${goal.parent}` : ""}`).join("\n")}\n`;

const recorded = {} as Record<(typeof STACKS)[number], Recorded>;
beforeAll(async () => {
  mkdirSync(STATES, { recursive: true });
  const runs = await Promise.all(STACKS.map((stack) => record(stack)));
  STACKS.forEach((stack, i) => (recorded[stack] = runs[i]));
}, 120_000);

/**
 * A refactor that changes a URN (a renamed type token, a resource moved to another parent) makes
 * `pulumi up` create a new resource and run the old one's delete: give the resource an `aliases`
 * option naming what it was, then rewrite the snapshots with UPDATE_URNS=1.
 */
describe("URNs: what the engine keys its state by", () => {
  it.each(STACKS)("%s: a deploy of the URN snapshot deletes nothing and creates nothing (a refactor without an alias fails here)", (stack) => {
    if (process.env.UPDATE_URNS) writeFileSync(snapshotFile(stack), snapshotOf(recorded[stack].goals));
    expect(urnChanges(readFileSync(snapshotFile(stack), "utf8"), recorded[stack].goals)).toEqual({ deleted: [], created: [] });
  });

  it.each(STACKS)("%s: each command's RESOURCE, the owner its claims record, is its own URN", (stack) => {
    const commands = recorded[stack].resources.filter((r) => r.type === "command:remote:Command");
    expect(commands.length).toBeGreaterThan(10);
    for (const command of commands) {
      expect(parseShellWords(headerParams(command.inputs.create as string).RESOURCE)[0], command.urn).toBe(command.urn);
    }
  });

  describe("on a copy of the program whose Redis component has a new type token", () => {
    const copy = mkdtempSync(path.join(tmpdir(), "sparks-refactor-"));
    afterAll(() => rmSync(copy, { recursive: true, force: true }));
    it("without an alias, the engine would delete every Redis resource of prod and create them anew", async () => {
      copyProgram(copy, "components/redis.ts", renameRedisType(false));
      const { deleted, created } = urnChanges(readFileSync(snapshotFile("prod"), "utf8"), (await record("prod", copy)).goals);
      expect(deleted.map(urnName).sort()).toEqual(
        ["prod-1-redis", "prod-2-redis", ...["prod-1", "prod-2"].flatMap((h) => ["packages", "tool", "instance-main", "instance-fixtures"].map((c) => `${h}-redis-${c}`))].sort(),
      );
      expect(created.map(urnName).sort()).toEqual(deleted.map(urnName).sort());
    }, 60_000);

    it("with an alias naming the old type, nothing is deleted: the children follow their parent's alias", async () => {
      copyProgram(copy, "components/redis.ts", renameRedisType(true));
      expect(urnChanges(readFileSync(snapshotFile("prod"), "utf8"), (await record("prod", copy)).goals)).toEqual({ deleted: [], created: [] });
    }, 60_000);
  });
});
