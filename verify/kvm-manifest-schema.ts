import type { JSONSchemaType } from "ajv";
import { patterns } from "../lib/patterns";
import type { KvmExpectation, KvmGuestExpectation, KvmSettingExpectation } from "./kvm-manifest";

const settingSchema: JSONSchemaType<KvmSettingExpectation> = {
  type: "object",
  additionalProperties: false,
  required: ["file", "key", "value"],
  properties: {
    file: { type: "string", pattern: patterns.absolutePath },
    key: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]*$" },
    value: { type: "string" },
  },
};

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
  required: ["domainType", "bootSeconds", "settings", "guests"],
  properties: {
    domainType: { type: "string", enum: ["kvm", "qemu"] },
    bootSeconds: { type: "integer", minimum: 0, maximum: 3600 },
    settings: { type: "array", items: settingSchema },
    guests: { type: "array", items: guestSchema },
  },
};
