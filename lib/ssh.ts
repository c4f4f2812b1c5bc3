import { createHash } from "node:crypto";
import { Client, type ConnectConfig } from "ssh2";

/** An SSH endpoint with its pinned ed25519 host key. */
export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
  /** `ssh-ed25519 BASE64` (a trailing comment is ignored). */
  hostKey: string;
  /** Private key text; without it the SSH agent is used. */
  privateKey?: string;
  /** Connection attempts before giving up; default 1. */
  attempts?: number;
  /** Timeout of one attempt in seconds; default 15. */
  perAttemptTimeout?: number;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  stdin?: string;
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
}

/** The host presented a key other than the pinned one. */
export class HostKeyMismatchError extends Error {
  constructor(readonly expected: string, readonly found: string) {
    super(`host key mismatch: expected ${expected}, found ${found}`);
    this.name = "HostKeyMismatchError";
  }
}

/** OpenSSH's fingerprint of a raw public key blob: `SHA256:` + unpadded base64. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

export function hostKeyBlob(hostKey: string): Buffer {
  const [type, base64] = hostKey.trim().split(/\s+/);
  if (type !== "ssh-ed25519" || !base64) throw new Error(`host key must be "ssh-ed25519 BASE64", got "${hostKey}"`);
  return Buffer.from(base64, "base64");
}

/** One SSH connection to a host; commands run over it one after another or concurrently. */
export class SshSession {
  private constructor(private readonly client: Client, readonly endpoint: SshEndpoint) {}

  static async open(endpoint: SshEndpoint): Promise<SshSession> {
    const attempts = Math.max(1, endpoint.attempts ?? 1);
    for (let attempt = 1; ; attempt++) {
      try {
        return new SshSession(await connect(endpoint), endpoint);
      } catch (error) {
        if (error instanceof HostKeyMismatchError || attempt >= attempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      this.client.exec(command, (error, channel) => {
        if (error) return reject(error);
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        channel.on("data", (chunk: Buffer) => {
          stdout.push(chunk);
          options.onStdout?.(chunk.toString("utf8"));
        });
        channel.stderr.on("data", (chunk: Buffer) => {
          stderr.push(chunk);
          options.onStderr?.(chunk.toString("utf8"));
        });
        let exitCode = 255;
        channel.on("exit", (code: number | null, signal?: string) => {
          exitCode = code ?? (signal ? 128 : 255);
        });
        channel.on("close", () =>
          resolve({
            code: exitCode,
            stdout: Buffer.concat(stdout).toString("utf8"),
            stderr: Buffer.concat(stderr).toString("utf8"),
          }),
        );
        channel.end(options.stdin ?? "");
      });
    });
  }

  close(): void {
    this.client.end();
  }
}

function connect(endpoint: SshEndpoint): Promise<Client> {
  const expected = hostKeyBlob(endpoint.hostKey);
  let mismatch: HostKeyMismatchError | undefined;
  return new Promise((resolve, reject) => {
    const client = new Client();
    const config: ConnectConfig = {
      host: endpoint.host,
      port: endpoint.port,
      username: endpoint.user,
      readyTimeout: (endpoint.perAttemptTimeout ?? 15) * 1000,
      algorithms: { serverHostKey: ["ssh-ed25519"] },
      hostVerifier: (key: Buffer) => {
        if (key.equals(expected)) return true;
        mismatch = new HostKeyMismatchError(fingerprint(expected), fingerprint(key));
        return false;
      },
      ...(endpoint.privateKey ? { privateKey: endpoint.privateKey } : { agent: process.env.SSH_AUTH_SOCK }),
    };
    client.once("ready", () => resolve(client));
    client.once("error", (error) => reject(mismatch ?? error));
    client.connect(config);
  });
}
