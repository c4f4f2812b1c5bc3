import type { JSONSchemaType } from "ajv";
import { patterns } from "../lib/patterns";
import type { RedisConfig, RedisInstanceConfig, RedisPersistenceConfig } from "./types";

const port = { type: "integer", minimum: 1024, maximum: 65535 } as const;

export const MAXMEMORY_POLICIES = [
  "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
] as const;

const redisInstanceSchema: JSONSchemaType<RedisInstanceConfig> = {
  type: "object",
  additionalProperties: false,
  required: ["name"],
  properties: {
    name: { type: "string", pattern: patterns.name },
    forkOf: { type: "string", pattern: patterns.name, nullable: true },
    protect: { type: "boolean", nullable: true },
  },
};

const persistenceSchema: JSONSchemaType<RedisPersistenceConfig> = {
  type: "object",
  // No `appendonly`: forks keep every acknowledged write only with AOF, so it is not a choice.
  additionalProperties: false,
  required: [],
  properties: {
    appendfsync: { type: "string", enum: ["always", "everysec", "no"], nullable: true },
    save: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["seconds", "changes"],
        properties: { seconds: { type: "integer", minimum: 1 }, changes: { type: "integer", minimum: 1 } },
      },
      nullable: true,
    },
  },
};

export const redisSchema: JSONSchemaType<RedisConfig> = {
  type: "object",
  additionalProperties: false,
  required: ["volume", "subvolume", "listen", "ports"],
  properties: {
    volume: { type: "string", pattern: patterns.name },
    subvolume: { type: "string", pattern: patterns.name },
    listen: { type: "string", pattern: patterns.ipAddress },
    ports: {
      type: "object",
      additionalProperties: false,
      required: ["from", "to"],
      properties: { from: port, to: port },
    },
    persistence: { ...persistenceSchema, nullable: true },
    maxmemory: { type: "string", pattern: patterns.size, nullable: true },
    maxmemoryPolicy: { type: "string", enum: [...MAXMEMORY_POLICIES], nullable: true },
    instances: { type: "array", items: redisInstanceSchema, nullable: true },
  },
};
