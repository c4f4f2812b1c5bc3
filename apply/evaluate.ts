import { randomBytes } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as settings from "@pulumi/pulumi/runtime/settings";
import { runInPulumiStack } from "@pulumi/pulumi/runtime/stack";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import type { VerifyManifest } from "../verify/manifest";
import { withContentHashes } from "./engine/asset-hash";
import type { ResourceGoal } from "./engine/types";
import { newUrn } from "./engine/urn";
import type { StackConfigMap } from "./stack-file";

export interface EvaluatedStack {
  /** Every resource the program registered, in registration order. */
  goals: ResourceGoal[];
  manifest: VerifyManifest;
  /** The stack's outputs in wire form (secrets keep their signature). */
  outputs: Record<string, unknown>;
}

const PROJECT = "sparks";

/**
 * Runs the Pulumi program under Pulumi's mock runtime with the given config and returns what the
 * engine would receive: each resource's RegisterResourceRequest (type, name, parent, inputs,
 * dependencies, protect, retainOnDelete, deleteBeforeReplace, replaceOnChanges, aliases), the
 * stack outputs and the verify manifest. Nothing runs on a host. Once per process: the mock
 * runtime is global.
 */
export async function evaluateStack(stack: string, config: StackConfigMap): Promise<EvaluatedStack> {
  const goals: ResourceGoal[] = [];
  await pulumi.runtime.setMocks({ newResource: () => ({ id: "", state: {} }), call: () => ({}) }, PROJECT, stack, false);
  // The mock monitor passes its mocks neither parent, dependencies nor resource options, and it
  // builds URNs from the last parent type only: take the request itself, as the engine does.
  type Callback = (error: unknown, response?: unknown) => void;
  const monitor = settings.getMonitor() as unknown as {
    registerResource: (req: any, callback: Callback) => void;
    registerResourceOutputs: (req: any, callback: Callback) => void;
  };
  // Components' registered outputs are not state the sandbox engine acts on.
  monitor.registerResourceOutputs = (_req, callback) => callback(null, {});
  monitor.registerResource = (req, callback) => {
    try {
      const goal = goalFromRequest(stack, req);
      goals.push(goal);
      callback(null, registerResponse(goal));
    } catch (error) {
      callback(error);
    }
  };
  pulumi.runtime.setAllConfig(config.values, config.secretKeys);
  const exported = await withoutStackTraces(async () => {
    const program = await runInPulumiStack(async () => ({ ...(await import("../stacks/index")) }));
    // Resources register as what they depend on resolves: wait until the last request is in.
    await (settings as unknown as { waitForRPCs: () => Promise<void> }).waitForRPCs();
    return program;
  });
  const outputs = await wireOutputs(exported ?? {});
  const manifest = (exported as { verifyManifest?: VerifyManifest } | undefined)?.verifyManifest;
  if (!manifest) throw new Error("the program exported no verifyManifest");
  return { goals, manifest, outputs };
}

/**
 * Runs `evaluate` with no stack traces taken and none mapped. The SDK takes one for every promise it
 * makes (runtime/debuggable.js, kept for its leak report) and one per resource (its source
 * position, which no goal carries); under tsx each is mapped through source maps frame by frame.
 * That was two thirds of a 100-host plan, and what made it grow faster than the hosts
 * (bench/fleet.ts). SPARKS_EVAL_STACKS=1 keeps them, to debug a program that throws.
 */
async function withoutStackTraces<T>(evaluate: () => Promise<T>): Promise<T> {
  if (process.env.SPARKS_EVAL_STACKS) return evaluate();
  const { stackTraceLimit } = Error;
  const sourceMaps = process.sourceMapsEnabled;
  Error.stackTraceLimit = 0;
  process.setSourceMapsEnabled(false);
  try {
    return await evaluate();
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
    process.setSourceMapsEnabled(sourceMaps);
  }
}

function goalFromRequest(stack: string, req: any): ResourceGoal {
  const type: string = req.getType();
  const name: string = req.getName();
  const parent: string = req.getParent();
  return {
    urn: newUrn(stack, PROJECT, parent, type, name),
    type,
    name,
    custom: req.getCustom(),
    ...(parent ? { parent } : {}),
    inputs: withContentHashes(req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
    dependencies: [...new Set<string>(req.getDependenciesList())],
    protect: req.getProtect() === true,
    retainOnDelete: req.getRetainondelete() === true,
    deleteBeforeReplace: req.getDeletebeforereplace() === true,
    replaceOnChanges: req.getReplaceonchangesList(),
    aliases: req.getAliasesList().map((alias: any) => aliasUrn(stack, { type, name, parent }, alias)),
  };
}

/**
 * An alias spec as the engine resolves it (pkg/resource/deploy/step_generator.go generateAliases):
 * a whole URN, or the fields that differ from the resource's own (name, type, parent, stack, project).
 */
function aliasUrn(stack: string, self: { type: string; name: string; parent: string }, alias: any): string {
  if (alias.hasUrn()) return alias.getUrn();
  const spec = alias.getSpec();
  const parent = spec.getNoparent() ? "" : spec.getParenturn() || self.parent;
  return newUrn(spec.getStack() || stack, spec.getProject() || PROJECT, parent, spec.getType() || self.type, spec.getName() || self.name);
}

function registerResponse(goal: ResourceGoal) {
  const { RegisterResourceResponse } = require("@pulumi/pulumi/proto/resource_pb");
  const response = new RegisterResourceResponse();
  response.setUrn(goal.urn);
  // The command provider makes up an ID on create; nothing here reads it.
  response.setId(goal.custom ? randomBytes(8).toString("hex") : "");
  // Outputs mirror the inputs, so the program sees what it set (the command's stdout is unknown until it runs).
  response.setObject(structproto.Struct.fromJavaScript(goal.inputs as any));
  return response;
}

async function wireOutputs(exported: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { serializeProperties } = require("@pulumi/pulumi/runtime/rpc");
  return (await serializeProperties("stack outputs", exported, { keepOutputValues: false })) as Record<string, unknown>;
}
