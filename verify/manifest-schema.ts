import type { JSONSchemaType } from "ajv";
import { instanceNameProperties } from "../lib/instance-schema";
import { patterns } from "../lib/patterns";
import type {
  BtrfsVolumeExpectation,
  FirewallExpectation,
  HostExpectation,
  RedisExpectation,
  SparkPgExpectation,
  ServiceRoot,
  SparkPgInstanceExpectation,
  SshTarget,
  SubvolumeExpectation,
  TlsExpectation,
  VerifyManifest,
} from "./manifest";
import { kvmExpectationSchema } from "./kvm-manifest-schema";

const subvolumeSchema: JSONSchemaType<SubvolumeExpectation> = {
  type: "object",
  additionalProperties: false,
  required: ["name", "path", "owner", "group", "mode", "limitBytes"],
  properties: {
    name: { type: "string", pattern: patterns.name },
    path: { type: "string", pattern: patterns.absolutePath },
    owner: { type: "string", pattern: patterns.unixName },
    group: { type: "string", pattern: patterns.unixName },
    mode: { type: "string", pattern: patterns.octalMode },
    limitBytes: { anyOf: [{ type: "integer", minimum: 1 }, { type: "null", nullable: true }] },
  },
};

const btrfsVolumeSchema: JSONSchemaType<BtrfsVolumeExpectation> = {
  type: "object",
  additionalProperties: false,
  required: ["name", "device", "label", "mountpoint", "mountUnit", "mountOptions", "quotas", "subvolumes"],
  properties: {
    name: { type: "string", pattern: patterns.name },
    device: { type: "string", pattern: patterns.device },
    label: { type: "string", pattern: patterns.label },
    mountpoint: { type: "string", pattern: patterns.absolutePath },
    mountUnit: { type: "string", pattern: patterns.mountUnit },
    mountOptions: { type: "array", items: { type: "string", pattern: patterns.mountOption } },
    quotas: { type: "boolean" },
    subvolumes: { type: "array", items: subvolumeSchema },
  },
};

const sshTargetSchema: JSONSchemaType<SshTarget> = {
  type: "object",
  additionalProperties: false,
  required: ["address", "port", "user", "hostKey"],
  properties: {
    address: { type: "string", pattern: patterns.address },
    port: { type: "integer", minimum: 1, maximum: 65535 },
    user: { type: "string", pattern: patterns.unixName },
    hostKey: { type: "string", pattern: patterns.ed25519HostKey },
    identityFile: { type: "string", minLength: 1, nullable: true },
  },
};

/** A spark-pg and a spark-redis instance are expected alike. */
const instanceSchema: JSONSchemaType<SparkPgInstanceExpectation> = {
  type: "object",
  additionalProperties: false,
  required: ["name"],
  properties: { ...instanceNameProperties, forkLimitBytes: { type: "integer", minimum: 1, nullable: true } },
};

const serviceRootSchema: JSONSchemaType<ServiceRoot> = {
  type: "object",
  additionalProperties: false,
  required: ["volume", "subvolume"],
  properties: { volume: { type: "string", pattern: patterns.name }, subvolume: { type: "string", pattern: patterns.name } },
};

const tlsSchema: JSONSchemaType<TlsExpectation> = {
  type: "object",
  additionalProperties: false,
  required: ["caFile", "certFile", "addresses", "verifyDays"],
  properties: {
    caFile: { type: "string", pattern: patterns.absolutePath },
    certFile: { type: "string", pattern: patterns.absolutePath },
    addresses: { type: "array", minItems: 1, items: { type: "string", pattern: patterns.ipAddress } },
    verifyDays: { type: "integer", minimum: 0 },
  },
};

const clientsSchema = { type: "array", items: { type: "string", pattern: "^[0-9A-Fa-f.:]+/[0-9]{1,3}$" } } as const;

const sparkPgSchema: JSONSchemaType<SparkPgExpectation> = {
  type: "object",
  additionalProperties: false,
  required: ["version", "listen", "clients", "instances"],
  properties: {
    version: { type: "integer", minimum: 10, maximum: 99 },
    listen: { type: "string", pattern: patterns.ipAddress },
    root: { ...serviceRootSchema, nullable: true },
    clients: clientsSchema,
    instances: { type: "array", items: instanceSchema },
  },
};

const redisExpectationSchema: JSONSchemaType<RedisExpectation> = {
  type: "object",
  additionalProperties: false,
  required: ["listen", "clients", "appendfsync", "save", "maxmemory", "maxmemoryPolicy", "instances"],
  properties: {
    listen: { type: "string", pattern: patterns.ipAddress },
    root: { ...serviceRootSchema, nullable: true },
    clients: clientsSchema,
    appendfsync: { type: "string", enum: ["always", "everysec", "no"] },
    save: { type: "string", pattern: "^(\\d+ \\d+( \\d+ \\d+)*)?$" },
    maxmemory: { type: "integer", minimum: 0 },
    maxmemoryPolicy: { type: "string", pattern: "^[a-z-]+$" },
    instances: { type: "array", items: instanceSchema },
  },
};

const firewallSchema: JSONSchemaType<FirewallExpectation> = {
  type: "object",
  additionalProperties: false,
  required: ["generation", "sshPort", "adminNetworks", "services", "guestBridges"],
  properties: {
    generation: { type: "string", pattern: "^[0-9a-f]{16}$" },
    sshPort: { type: "integer", minimum: 1, maximum: 65535 },
    adminNetworks: { ...clientsSchema, minItems: 1 },
    services: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "listen", "ports", "clients"],
        properties: {
          name: { type: "string", enum: ["spark-pg", "redis"] },
          listen: { type: "string", pattern: patterns.ipAddress },
          ports: {
            type: "object",
            additionalProperties: false,
            required: ["from", "to"],
            properties: { from: { type: "integer", minimum: 1, maximum: 65535 }, to: { type: "integer", minimum: 1, maximum: 65535 } },
          },
          clients: clientsSchema,
        },
      },
    },
    guestBridges: { type: "array", items: { type: "string", pattern: "^[A-Za-z0-9_.-]{1,15}$" } },
  },
};

const hostSchema: JSONSchemaType<HostExpectation> = {
  type: "object",
  additionalProperties: false,
  required: ["name", "ssh", "packages", "btrfsVolumes"],
  properties: {
    name: { type: "string", pattern: patterns.name },
    ssh: sshTargetSchema,
    packages: { type: "array", items: { type: "string", pattern: patterns.debianPackage } },
    btrfsVolumes: { type: "array", items: btrfsVolumeSchema },
    sparkPg: { ...sparkPgSchema, nullable: true },
    redis: { ...redisExpectationSchema, nullable: true },
    kvm: { ...kvmExpectationSchema, nullable: true },
    tls: { ...tlsSchema, nullable: true },
    firewall: { ...firewallSchema, nullable: true },
  },
};

export const verifyManifestSchema: JSONSchemaType<VerifyManifest> = {
  type: "object",
  additionalProperties: false,
  required: ["version", "project", "stack", "hosts"],
  properties: {
    version: { type: "integer", const: 1 },
    project: { type: "string", minLength: 1 },
    stack: { type: "string", minLength: 1 },
    hosts: { type: "array", items: hostSchema },
  },
};
