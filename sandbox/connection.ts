import fs from "node:fs";
import type { SandboxNetwork } from "./network-plan";

/** The contract with the stack config loader: keep exactly these keys. */
export interface SandboxConnection {
  address: string;
  port: number;
  user: string;
  /** authorized_keys form, no comment: "ssh-ed25519 AAAA..." */
  hostKey: string;
  privateKeyPath: string;
  disks: Record<string, { loopDevice: string; image: string; sizeBytes: number }>;
  nspawnPid: number;
  startedAt: string;
  /** The container's own network namespace and the veth to it: `address` is its containerAddress. */
  network: SandboxNetwork;
}

export function writeConnection(file: string, c: SandboxConnection): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(c, null, 2) + "\n", { mode: 0o644 });
  fs.renameSync(tmp, file);
}

export function readConnection(file: string): SandboxConnection | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as SandboxConnection;
  } catch {
    return undefined;
  }
}
