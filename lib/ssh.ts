import { StringDecoder } from "node:string_decoder";
import { Client, type ClientChannel, type ConnectConfig, type SFTPWrapper } from "ssh2";
import { compareHostKey, type HostKeyVerdict, hostKeyBlob } from "./host-key";

export { fingerprint, hostKeyBlob } from "./host-key";

/** An SSH endpoint with its pinned ed25519 host key, and how to log in to it. */
export interface SshEndpoint {
  host: string;
  port: number;
  user: string;
  /** `ssh-ed25519 BASE64 [comment]`; a host presenting another key is refused before anything is sent. */
  hostKey: string;
  /** Private key to log in with; wins over `agent`. */
  privateKey?: string | Buffer;
  /** ssh-agent socket, used when there is no `privateKey`. Default: `SSH_AUTH_SOCK`. */
  agent?: string;
}

export interface SessionOptions {
  /**
   * Connection attempts before giving up, a second apart. Only a host not reachable yet is tried
   * again (refused, reset, timed out, name not resolved, hung up before the SSH banner); a refused
   * login, a refused host key or a protocol failure is reported at once. Default 1.
   */
  attempts?: number;
  /** Time allowed for one attempt's TCP connect, key exchange and authentication. Default 15000 ms. */
  readyTimeoutMs?: number;
  /** Time allowed for one remote command. Default: no limit. */
  commandTimeoutMs?: number;
  /**
   * Commands in flight at once; sshd refuses channels beyond its MaxSessions (default 10), and it
   * frees a session a little after the client sees the channel close, so keep well under. Default 4.
   */
  maxChannels?: number;
}

export interface ExecResult {
  /** Exit code; null when the command did not exit normally (signal, timeout, lost connection). */
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Written to the command's stdin, which is then closed. Default: empty. */
  stdin?: string;
  /** Called with stdout as it arrives. */
  onStdout?: (chunk: string) => void;
  /** Called with stderr as it arrives, including the `ssh: ...` line of a transport failure. */
  onStderr?: (chunk: string) => void;
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
    /** Whether the host could not be reached (yet), so another attempt may succeed; false when it refused us. */
    readonly unreachable: boolean,
  ) {
    super(message);
  }
}

const RETRY_DELAY_MS = 1000;

/**
 * ssh2 tags each error with the layer it came from (`level`). These mean the host was not reached:
 * TCP refused, reset or timed out, the name did not resolve, or no login within `readyTimeout`.
 * Authentication (`client-authentication`), the agent, the key exchange (`handshake`) and the
 * protocol are answers from a reachable host: trying again gets the same answer.
 */
const UNREACHABLE_LEVELS = new Set(["client-socket", "client-dns", "client-timeout"]);

function isUnreachable(error: Error & { level?: string }, hostKeySeen: boolean): boolean {
  if (error.level !== undefined && UNREACHABLE_LEVELS.has(error.level)) return true;
  // A host that accepts TCP and hangs up before its banner is still starting sshd, or shedding
  // connections (MaxStartups).
  return !hostKeySeen && /^Connection lost before handshake$/.test(error.message);
}

/** One SSH connection to a host; commands run over it one after another or concurrently (one channel each). */
export class SshSession {
  private readonly slot: Limiter;

  private constructor(
    private readonly client: Client,
    readonly endpoint: SshEndpoint,
    private readonly options: SessionOptions,
  ) {
    this.slot = limiter(options.maxChannels ?? 4);
  }

  /**
   * Connects and logs in. Rejects with `HostKeyMismatchError`, or `SshConnectError`: at once when
   * the host refused us, after the last attempt when it could not be reached.
   */
  static async open(endpoint: SshEndpoint, options: SessionOptions = {}): Promise<SshSession> {
    const pinned = hostKeyBlob(endpoint.hostKey);
    const attempts = Math.max(1, options.attempts ?? 1);
    for (let attempt = 1; ; attempt++) {
      try {
        return new SshSession(await connect(endpoint, pinned, options.readyTimeoutMs ?? 15_000), endpoint, options);
      } catch (error) {
        if (!(error instanceof SshConnectError && error.unreachable) || attempt >= attempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
      }
    }
  }

  /** Runs one command. Never rejects: transport failures and timeouts come back as `code: null`. */
  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.slot(() => execOnClient(this.client, command, this.options.commandTimeoutMs, options));
  }

  /**
   * Copies files over SFTP the way the command provider's CopyToRemote does
   * (pulumi-command provider/pkg/provider/remote/copyController.go sftpCopy): `files` are paths
   * relative to `remoteDir`, parent directories are created, existing files are overwritten.
   */
  upload(remoteDir: string, files: readonly { path: string; content: Buffer | string }[]): Promise<void> {
    return this.slot(() => uploadOnClient(this.client, remoteDir, files));
  }

  close(): void {
    this.client.end();
  }
}

async function uploadOnClient(client: Client, remoteDir: string, files: readonly { path: string; content: Buffer | string }[]): Promise<void> {
  const sftp = await new Promise<SFTPWrapper>((resolve, reject) => client.sftp((error, wrapper) => (error ? reject(error) : resolve(wrapper))));
  const call = <T>(run: (done: (error: Error | null | undefined, value?: T) => void) => void) =>
    new Promise<T | undefined>((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value))));
  const made = new Set<string>();
  const mkdirAll = async (dir: string): Promise<void> => {
    if (made.has(dir) || dir === "/" || dir === "") return;
    const stats = await call<{ isDirectory(): boolean }>((done) => sftp.stat(dir, done)).catch(() => undefined);
    if (stats === undefined) {
      await mkdirAll(posixDirname(dir));
      await call((done) => sftp.mkdir(dir, done)).catch(async (error) => {
        // Another upload may have made it in the meantime.
        const again = await call<{ isDirectory(): boolean }>((done) => sftp.stat(dir, done)).catch(() => undefined);
        if (!again?.isDirectory()) throw error;
      });
    } else if (!stats.isDirectory()) {
      throw new Error(`remote path ${dir} exists but is not a directory`);
    }
    made.add(dir);
  };
  try {
    for (const file of files) {
      const target = `${remoteDir.replace(/\/+$/, "")}/${file.path}`;
      await mkdirAll(posixDirname(target));
      await call((done) => sftp.writeFile(target, file.content, done)).catch((error: Error) => {
        throw new Error(`failed to copy to remote path ${target}: ${error.message}`);
      });
    }
  } finally {
    sftp.end();
  }
}

const posixDirname = (file: string) => file.replace(/\/[^/]*$/, "") || "/";

function connect(endpoint: SshEndpoint, pinned: Buffer, readyTimeoutMs: number): Promise<Client> {
  const client = new Client();
  let verdict: HostKeyVerdict | undefined;

  const config: ConnectConfig = {
    host: endpoint.host,
    port: endpoint.port,
    username: endpoint.user,
    readyTimeout: readyTimeoutMs,
    algorithms: { serverHostKey: ["ssh-ed25519"] },
    hostVerifier: (key: Buffer) => {
      verdict = compareHostKey(pinned, key);
      return verdict.match;
    },
    ...(endpoint.privateKey ? { privateKey: endpoint.privateKey } : { agent: endpoint.agent ?? process.env.SSH_AUTH_SOCK }),
  };

  return new Promise((resolve, reject) => {
    const settle = (message: string, unreachable: boolean) => {
      client.end();
      if (verdict !== undefined && !verdict.match) reject(new HostKeyMismatchError(verdict.expected, verdict.found));
      else reject(new SshConnectError(message, verdict?.match === true, unreachable));
    };
    const onError = (error: Error & { level?: string }) => settle(error.message, isUnreachable(error, verdict !== undefined));
    // Closed without an error: before the key exchange, a host not ready yet; after it, a host refusing us.
    const onClose = () => settle("connection closed before login", verdict === undefined);
    client.once("error", onError);
    client.once("close", onClose);
    client.once("ready", () => {
      client.off("error", onError);
      client.off("close", onClose);
      // Later transport errors surface through the pending commands (their channels close).
      client.on("error", () => undefined);
      resolve(client);
    });
    try {
      client.connect(config);
    } catch (error) {
      // ssh2 throws synchronously for a config it cannot use, e.g. an encrypted or malformed key.
      reject(new SshConnectError((error as Error).message, false, false));
    }
  });
}

function execOnClient(client: Client, command: string, timeoutMs: number | undefined, options: ExecOptions): Promise<ExecResult> {
  return new Promise((resolve) => {
    const stdout = new Output(options.onStdout);
    const stderr = new Output(options.onStderr);
    let code: number | null = null;
    let settled = false;
    let closeChannel: () => void = () => {};
    const finish = (failure?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      closeChannel();
      stdout.end();
      stderr.end();
      if (failure !== undefined) {
        const text = stderr.text();
        stderr.add(`${text === "" || text.endsWith("\n") ? "" : "\n"}ssh: ${failure}`);
      }
      resolve({ code: failure === undefined ? code : null, stdout: stdout.text(), stderr: stderr.text() });
    };
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => finish(`command timed out after ${timeoutMs} ms`), timeoutMs);

    const onChannel = (error: Error | undefined, channel: ClientChannel) => {
      if (error) return finish(error.message);
      closeChannel = () => channel.close();
      channel.on("data", (chunk: Buffer) => stdout.write(chunk));
      channel.stderr.on("data", (chunk: Buffer) => stderr.write(chunk));
      let signal: string | undefined;
      channel.on("exit", (exitCode: number | null, exitSignal?: string) => {
        code = typeof exitCode === "number" ? exitCode : null;
        signal = exitSignal;
      });
      channel.on("close", () =>
        finish(code !== null ? undefined : signal !== undefined ? `killed by signal ${signal}` : "channel closed without an exit status"),
      );
      channel.end(options.stdin ?? "");
    };
    try {
      client.exec(command, onChannel);
    } catch (error) {
      // ssh2 throws rather than calling back once the connection is gone.
      finish((error as Error).message);
    }
  });
}

/** One output stream of a command: kept whole for the result, passed on as it arrives. */
class Output {
  private readonly chunks: string[] = [];
  // A multi-byte character may be split between two packets.
  private readonly decoder = new StringDecoder("utf8");

  constructor(private readonly onChunk?: (chunk: string) => void) {}

  write(chunk: Buffer): void {
    this.add(this.decoder.write(chunk));
  }

  end(): void {
    this.add(this.decoder.end());
  }

  add(text: string): void {
    if (text === "") return;
    this.chunks.push(text);
    this.onChunk?.(text);
  }

  text(): string {
    return this.chunks.join("");
  }
}

type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/** Runs at most `max` tasks at once, the rest in call order. */
function limiter(max: number): Limiter {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (active < max) active++;
    // A finishing task hands its slot straight to the next in line, so no newcomer can slip in between.
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
