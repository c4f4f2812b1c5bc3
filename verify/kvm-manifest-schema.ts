import type { JSONSchemaType } from "ajv";
import { patterns } from "../lib/patterns";
import type { KvmExpectation, KvmGuestExpectation } from "./kvm-manifest";

const guestSchema: JSONSchemaType<KvmGuestExpectation> = {
  type: "object",
  additionalProperties: false,
  required: ["name", "vcpus", "memoryKiB", "autostart", "nested", "consoleLog", "instanceId"],
  properties: {
    name: { type: "string", pattern: patterns.name },
    vcpus: { type: "integer", minimum: 1 },
    memoryKiB: { type: "integer", minimum: 1 },
    autostart: { type: "boolean" },
    nested: { type: "boolean" },
    consoleLog: { type: "string", pattern: patterns.absolutePath },
    instanceId: { type: "string", pattern: "^[a-z0-9-]{1,80}$" },
  },
};

export const kvmExpectationSchema: JSONSchemaType<KvmExpectation> = {
  type: "object",
  additionalProperties: false,
  required: ["domainType", "bootSeconds", "guests"],
  properties: {
    domainType: { type: "string", enum: ["kvm", "qemu"] },
    bootSeconds: { type: "integer", minimum: 0, maximum: 3600 },
    guests: { type: "array", items: guestSchema },
  },
};
