import type { JSONSchemaType } from "ajv";
import { patterns } from "../lib/patterns";
import { kvmSchema } from "./kvm-schema";
import { redisSchema } from "./redis-schema";
import { serviceInstanceSchema, serviceInstancesProperties } from "./service-instances-schema";
import type { BtrfsVolumeConfig, HostConfig, SparkPgConfig, StackConfig, SubvolumeConfig } from "./types";

const subvolumeSchema: JSONSchemaType<SubvolumeConfig> = {
  type: "object",
  additionalProperties: false,
  required: ["name"],
  properties: {
    name: { type: "string", pattern: patterns.name },
    owner: { type: "string", pattern: patterns.unixName, nullable: true },
    group: { type: "string", pattern: patterns.unixName, nullable: true },
    mode: { type: "string", pattern: patterns.octalMode, nullable: true },
    limit: { type: "string", pattern: patterns.size, nullable: true },
  },
};

const btrfsVolumeSchema: JSONSchemaType<BtrfsVolumeConfig> = {
  type: "object",
  additionalProperties: false,
  required: ["name", "device", "label", "mountpoint"],
  properties: {
    name: { type: "string", pattern: patterns.name },
    device: { type: "string", pattern: patterns.device },
    label: { type: "string", pattern: patterns.label },
    mountpoint: { type: "string", pattern: patterns.absolutePath },
    previousMountpoint: { type: "string", pattern: patterns.absolutePath, nullable: true },
    mountOptions: {
      type: "array",
      items: { type: "string", pattern: patterns.mountOption },
      nullable: true,
    },
    protect: { type: "boolean", nullable: true },
    subvolumes: { type: "array", items: subvolumeSchema, nullable: true },
  },
};

const sparkPgSchema: JSONSchemaType<SparkPgConfig> = {
  type: "object",
  additionalProperties: false,
  required: ["version", "volume", "subvolume", "listen", "ports"],
  properties: {
    // Debian's major on bookworm; another needs its own package source first.
    version: { type: "integer", enum: [15] },
    ...serviceInstancesProperties,
    instances: { type: "array", items: serviceInstanceSchema, nullable: true },
  },
};

const hostSchema: JSONSchemaType<HostConfig> = {
  type: "object",
  additionalProperties: false,
  required: ["name", "ssh"],
  properties: {
    name: { type: "string", pattern: patterns.name },
    ssh: {
      type: "object",
      additionalProperties: false,
      required: [],
      properties: {
        address: { type: "string", pattern: patterns.address, nullable: true },
        port: { type: "integer", minimum: 1, maximum: 65535, nullable: true },
        // The host scripts run as root; a sudo path does not exist yet.
        user: { type: "string", enum: ["root"], nullable: true },
        hostKey: { type: "string", pattern: patterns.ed25519HostKey, nullable: true },
        sandbox: { type: "boolean", nullable: true },
        privateKey: { type: "string", minLength: 1, nullable: true },
      },
    },
    packages: {
      type: "array",
      items: { type: "string", pattern: patterns.debianPackage },
      nullable: true,
    },
    btrfs: {
      type: "object",
      additionalProperties: false,
      required: ["volumes"],
      properties: { volumes: { type: "array", items: btrfsVolumeSchema } },
      nullable: true,
    },
    sparkPg: { ...sparkPgSchema, nullable: true },
    redis: { ...redisSchema, nullable: true },
    kvm: { ...kvmSchema, nullable: true },
    firewall: {
      type: "object",
      additionalProperties: false,
      required: ["adminNetworks"],
      properties: {
        adminNetworks: { type: "array", minItems: 1, items: { type: "string", minLength: 1, maxLength: 64 } },
        sshPort: { type: "integer", minimum: 1, maximum: 65535, nullable: true },
        confirmSeconds: { type: "integer", minimum: 10, maximum: 3600, nullable: true },
      },
      nullable: true,
    },
    tls: {
      type: "object",
      additionalProperties: false,
      required: [],
      properties: {
        validDays: { type: "integer", minimum: 2, maximum: 825, nullable: true },
        renewDays: { type: "integer", minimum: 1, maximum: 824, nullable: true },
        verifyDays: { type: "integer", minimum: 0, maximum: 823, nullable: true },
      },
      nullable: true,
    },
  },
};

/** The whole stack config: the non-secret keys of the `sparks:` namespace. */
export const stackConfigSchema: JSONSchemaType<StackConfig> = {
  $id: "https://sparks.invalid/schemas/stack-config.json",
  type: "object",
  additionalProperties: false,
  required: ["hosts"],
  properties: {
    hosts: { type: "array", minItems: 1, items: hostSchema },
    converge: { type: "string", pattern: "^[A-Za-z0-9._:-]{0,64}$", nullable: true },
    tlsCaCertificate: { type: "string", nullable: true },
  },
};
