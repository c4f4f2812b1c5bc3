import type { JSONSchemaType } from "ajv";
import { patterns } from "../lib/patterns";
import type { KvmConfig, KvmGuestConfig, KvmImageConfig, KvmNetworkConfig } from "./kvm-types";

const networkSchema: JSONSchemaType<KvmNetworkConfig> = {
  type: "object",
  additionalProperties: false,
  required: ["name", "mode"],
  properties: {
    name: { type: "string", pattern: patterns.name },
    mode: { type: "string", enum: ["user", "nat", "bridge"] },
    bridge: { type: "string", pattern: patterns.interfaceName, nullable: true },
    address: { type: "string", pattern: patterns.ipv4Cidr, nullable: true },
  },
};

const imageSchema: JSONSchemaType<KvmImageConfig> = {
  type: "object",
  additionalProperties: false,
  required: ["name"],
  properties: {
    name: { type: "string", pattern: patterns.name },
    url: { type: "string", pattern: patterns.httpUrl, nullable: true },
    sha256: { type: "string", pattern: patterns.sha256, nullable: true },
    sha512: { type: "string", pattern: patterns.sha512, nullable: true },
    build: { type: "string", enum: ["debian-direct-kernel"], nullable: true },
    size: { type: "string", pattern: patterns.size, nullable: true },
  },
};

const count = { type: "integer", minimum: 1, maximum: 1024 } as const;

const guestSchema: JSONSchemaType<KvmGuestConfig> = {
  type: "object",
  additionalProperties: false,
  required: ["name", "image", "network", "vcpus", "memory", "diskSize"],
  properties: {
    name: { type: "string", pattern: patterns.name },
    image: { type: "string", pattern: patterns.name },
    network: { type: "string", pattern: patterns.name },
    vcpus: count,
    memory: { type: "string", pattern: patterns.size },
    diskSize: { type: "string", pattern: patterns.size },
    nested: { type: "boolean", nullable: true },
    autostart: { type: "boolean", nullable: true },
    sshKeys: { type: "array", items: { type: "string", pattern: patterns.sshPublicKey }, nullable: true },
    userData: { type: "object", required: [], nullable: true },
    protect: { type: "boolean", nullable: true },
  },
};

export const kvmSchema: JSONSchemaType<KvmConfig> = {
  type: "object",
  additionalProperties: false,
  required: ["domainType", "capacity", "volume", "subvolume", "networks", "images"],
  properties: {
    domainType: { type: "string", enum: ["kvm", "qemu"] },
    capacity: {
      type: "object",
      additionalProperties: false,
      required: ["vcpus", "memory"],
      properties: { vcpus: count, memory: { type: "string", pattern: patterns.size } },
    },
    qemuConf: {
      type: "object",
      required: [],
      propertyNames: { type: "string", pattern: patterns.qemuConfKey },
      additionalProperties: { type: "string", pattern: patterns.qemuConfValue },
      nullable: true,
    },
    volume: { type: "string", pattern: patterns.name },
    subvolume: { type: "string", pattern: patterns.name },
    networks: { type: "array", minItems: 1, items: networkSchema },
    images: { type: "array", minItems: 1, items: imageSchema },
    shutdownSeconds: { type: "integer", minimum: 0, maximum: 3600, nullable: true },
    bootSeconds: { type: "integer", minimum: 0, maximum: 3600, nullable: true },
    guests: { type: "array", items: guestSchema, nullable: true },
  },
};
