import type { JSONSchemaType } from "ajv";
import type {
  BtrfsVolumeExpectation,
  HostExpectation,
  SshTarget,
  SubvolumeExpectation,
  VerifyManifest,
} from "./manifest";

/**
 * Value patterns. Remote commands quote every value anyway; these catch a manifest that was not
 * produced by the program (hand-written, truncated, from another version) before any SSH happens.
 */
export const patterns = {
  name: "^[a-z][a-z0-9-]{0,31}$",
  address: "^[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$",
  ed25519HostKey: "^ssh-ed25519 [A-Za-z0-9+/]{68}( [^\\n]*)?$",
  debianPackage: "^[a-z0-9][a-z0-9+.-]{1,62}$",
  device: "^/dev/[A-Za-z0-9][A-Za-z0-9/._:-]{0,200}$",
  label: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
  absolutePath: "^(/[A-Za-z0-9_][A-Za-z0-9._-]{0,63})+$",
  mountOption: "^[a-z0-9_]+(=[A-Za-z0-9_:.,/-]+)?$",
  unixName: "^[a-z_][a-z0-9_-]{0,31}$",
  octalMode: "^[0-7]{3,4}$",
} as const;

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
  required: ["name", "device", "label", "mountpoint", "mountOptions", "quotas", "subvolumes"],
  properties: {
    name: { type: "string", pattern: patterns.name },
    device: { type: "string", pattern: patterns.device },
    label: { type: "string", pattern: patterns.label },
    mountpoint: { type: "string", pattern: patterns.absolutePath },
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

const hostSchema: JSONSchemaType<HostExpectation> = {
  type: "object",
  additionalProperties: false,
  required: ["name", "ssh", "packages", "btrfsVolumes"],
  properties: {
    name: { type: "string", pattern: patterns.name },
    ssh: sshTargetSchema,
    packages: { type: "array", items: { type: "string", pattern: patterns.debianPackage } },
    btrfsVolumes: { type: "array", items: btrfsVolumeSchema },
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
