import { patterns } from "./patterns";

/**
 * How the stack config and the verify manifest both name an instance of spark-pg or spark-redis:
 * its own name and, for a fork, its source's.
 */
export const instanceNameProperties = {
  name: { type: "string", pattern: patterns.name },
  forkOf: { type: "string", pattern: patterns.name, nullable: true },
} as const;
