import { readFileSync } from "node:fs";
import * as path from "node:path";

/** What `npm run sandbox -- up` writes to `<state dir>/connection.json`. */
export interface SandboxConnection {
  address: string;
  port: number;
  user: string;
  hostKey: string;
  privateKeyPath: string;
}

export function sandboxStateDir(): string {
  return process.env.SPARKS_SANDBOX_DIR ?? path.resolve(__dirname, "..", ".sandbox");
}

/** The running sandbox host's connection, or undefined when no sandbox is up. */
export function readSandboxConnection(): SandboxConnection | undefined {
  try {
    return JSON.parse(readFileSync(path.join(sandboxStateDir(), "connection.json"), "utf8")) as SandboxConnection;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
