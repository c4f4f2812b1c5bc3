import { Client, type ClientChannel, type ConnectConfig } from "ssh2";
import { compareHostKey, hostKeyBlob } from "./host-key";
import type { SshTarget } from "./manifest";
import type { Exec, ExecResult } from "./types";

/** Exactly one way to log in, chosen by the caller. */
export type SshAuth = { privateKey: Buffer } | { agent: string };

export interface SessionOptions {
  /** Time allowed for TCP connect, key exchange and authentication. Default 15000 ms. */
  readyTimeoutMs?: number;
  /** Time allowed for one remote command. Default 60000 ms. */
  commandTimeoutMs?: number;
  /** Commands in flight at once; sshd refuses channels beyond its MaxSessions (default 10). Default 8. */
  maxChannels?: number;
}

export interface SshSession {
  /** Runs one command over the session's connection; several may run at once (one channel each). */
  exec: Exec;
  close(): void;
}

/** The host presented a key other than the pinned one; nothing was sent to it. */
export class HostKeyMismatchError extends Error {
  override name = "HostKeyMismatchError";
  constructor(
    readonly expected: string,
    readonly found: string,
  ) {
    super(`host key mismatch: expected ${expected}, found ${found}`);
  }
}

/** Failed after the host key was accepted (auth, timeout) or before it was seen (refused, unreachable). */
export class SshConnectError extends Error {
  override name = "SshConnectError";
  constructor(
    message: string,
    /** Whether the pinned host key was presented and accepted before the failure. */
    readonly hostKeyVerified: boolean,
  ) {
    super(message);
  }
}

export function openSession(target: SshTarget, auth: SshAuth, options: SessionOptions = {}): Promise<SshSession> {
  const pinned = hostKeyBlob(target.hostKey);
  const client = new Client();
  let verdict: ReturnType<typeof compareHostKey> | undefined;

  const config: ConnectConfig = {
    host: target.address,
    port: target.port,
    username: target.user,
    readyTimeout: options.readyTimeoutMs ?? 15_000,
    algorithms: { serverHostKey: ["ssh-ed25519"] },
    hostVerifier: (key: Buffer) => {
      verdict = compareHostKey(pinned, key);
      return verdict.match;
    },
    ...("privateKey" in auth ? { privateKey: auth.privateKey } : { agent: auth.agent }),
  };

  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      client.end();
      if (verdict !== undefined && !verdict.match) reject(new HostKeyMismatchError(verdict.expected, verdict.found));
      else reject(new SshConnectError(error.message, verdict?.match === true));
    };
    const onClose = () => onError(new Error("connection closed before login"));
    client.once("error", onError);
    client.once("close", onClose);
    client.once("ready", () => {
      client.off("error", onError);
      client.off("close", onClose);
      // Later transport errors surface through the pending commands (their channels close).
      client.on("error", () => undefined);
      const slot = limiter(options.maxChannels ?? 8);
      resolve({
        exec: (cmd) => slot(() => execOnClient(client, cmd, options.commandTimeoutMs ?? 60_000)),
        close: () => client.end(),
      });
    });
    try {
      client.connect(config);
    } catch (error) {
      // ssh2 throws synchronously for a config it cannot use, e.g. an encrypted or malformed key.
      reject(new SshConnectError((error as Error).message, false));
    }
  });
}

function execOnClient(client: Client, cmd: string, timeoutMs: number): Promise<ExecResult> {
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let code: number | null = null;
    let settled = false;
    let closeChannel: () => void = () => {};
    const finish = (extraError?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      closeChannel();
      const err = Buffer.concat(stderr).toString("utf8");
      resolve({
        code: extraError === undefined ? code : null,
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: extraError === undefined ? err : `${err}${err === "" || err.endsWith("\n") ? "" : "\n"}ssh: ${extraError}`,
      });
    };
    const timer = setTimeout(() => finish(`command timed out after ${timeoutMs} ms`), timeoutMs);

    const onChannel = (error: Error | undefined, channel: ClientChannel) => {
      if (error) return finish(error.message);
      closeChannel = () => channel.close();
      channel.on("data", (chunk: Buffer) => stdout.push(chunk));
      channel.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
      let signal: string | undefined;
      channel.on("exit", (exitCode: number | null, exitSignal?: string) => {
        code = typeof exitCode === "number" ? exitCode : null;
        signal = exitSignal;
      });
      channel.on("close", () =>
        finish(code !== null ? undefined : signal !== undefined ? `killed by signal ${signal}` : "channel closed without an exit status"),
      );
    };
    try {
      // LC_ALL=C: the parsers read tool output in the C locale whatever the host's default is.
      client.exec(`LC_ALL=C; export LC_ALL; ${cmd}`, onChannel);
    } catch (error) {
      // ssh2 throws rather than calling back once the connection is gone.
      finish((error as Error).message);
    }
  });
}

/** Runs at most `max` tasks at once, the rest in call order. */
function limiter(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}
