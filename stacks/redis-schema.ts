import type { JSONSchemaType } from "ajv";
import { patterns } from "../lib/patterns";
import { serviceInstanceSchema, serviceInstancesProperties } from "./service-instances-schema";
import type { RedisConfig, RedisPersistenceConfig } from "./types";

export const MAXMEMORY_POLICIES = [
  "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
] as const;

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
    ...serviceInstancesProperties,
    persistence: { ...persistenceSchema, nullable: true },
    maxmemory: { type: "string", pattern: patterns.size, nullable: true },
    maxmemoryPolicy: { type: "string", enum: [...MAXMEMORY_POLICIES], nullable: true },
    instances: { type: "array", items: serviceInstanceSchema, nullable: true },
  },
};
