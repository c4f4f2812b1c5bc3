import type { JSONSchemaType } from "ajv";
import { instanceNameProperties } from "../lib/instance-schema";
import { patterns } from "../lib/patterns";
import type { PortRange, SparkPgInstanceConfig } from "./types";

const port = { type: "integer", minimum: 1024, maximum: 65535 } as const;

const portPoolSchema: JSONSchemaType<PortRange> = {
  type: "object",
  additionalProperties: false,
  required: ["from", "to"],
  properties: { from: port, to: port },
};

/** Where a service's instances live and listen, and what a fork may write: the same for spark-pg and spark-redis. */
export const serviceInstancesProperties = {
  volume: { type: "string", pattern: patterns.name },
  subvolume: { type: "string", pattern: patterns.name },
  listen: { type: "string", pattern: patterns.ipAddress },
  // Parsed by lib/cidr.ts in validation, which names what is wrong with each.
  clients: { type: "array", items: { type: "string", minLength: 1, maxLength: 64 }, nullable: true },
  ports: portPoolSchema,
  forkLimit: { type: "string", pattern: patterns.size, nullable: true },
} as const;

/** One declared instance; a spark-pg and a spark-redis instance are declared alike. */
export const serviceInstanceSchema: JSONSchemaType<SparkPgInstanceConfig> = {
  type: "object",
  additionalProperties: false,
  required: ["name"],
  properties: {
    ...instanceNameProperties,
    protect: { type: "boolean", nullable: true },
  },
};
