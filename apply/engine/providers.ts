import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { SshSession } from "../../lib/ssh";
import type { Provider } from "./execute";
import type { StateResource } from "./types";
import { ARCHIVE_SIG, ASSET_SIG, SIG_KEY, unwrapSecrets } from "./values";

/** A remote command's connection, as the provider reads it (pulumi-command provider/pkg/provider/remote/connection.go). */
interface Connection {
  host: string;
  port?: number;
  user?: string;
  hostKey?: string;
  privateKey?: string;
  dialErrorLimit?: number;
  perDialTimeout?: number;
}

export interface ProviderLog {
  /** One line of a command's output, as the provider streams it to the engine. */
  output: (urn: string, line: string) => void;
}

/**
 * Dials once per operation, as the provider does (commandOutputs.go run: `c.Connection.Dial`),
 * retrying an unreachable host up to dialErrorLimit times.
 */
async function dial(connectionInput: unknown): Promise<SshSession> {
  const connection = unwrapSecrets(connectionInput) as Connection;
  const endpoint = `${connection.user ?? "root"}@${connection.host}:${connection.port ?? 22}`;
  // The provider accepts any host key when none is pinned; this harness never does.
  if (!connection.hostKey) throw new Error(`${endpoint}: no pinned host key; refusing to connect`);
  return SshSession.open(
    { host: connection.host, port: connection.port ?? 22, user: connection.user ?? "root", hostKey: connection.hostKey, privateKey: connection.privateKey },
    { attempts: connection.dialErrorLimit ?? 10, readyTimeoutMs: (connection.perDialTimeout ?? 15) * 1000 },
  );
}

/** `command:remote:Command` (pulumi-command provider/pkg/provider/remote/commandController.go). */
export function remoteCommandProvider(log: ProviderLog): Provider {
  const run = async (urn: string, inputs: Record<string, unknown>, command: string): Promise<Record<string, unknown>> => {
    const session = await dial(inputs.connection);
    try {
      const stdin = unwrapSecrets(inputs.stdin) as string | undefined;
      let pending = "";
      const stream = (chunk: string) => {
        const lines = (pending + chunk).split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) log.output(urn, line);
      };
      // The provider sends stdin only when it is not empty (commandOutputs.go run).
      const result = await session.exec(command, { stdin: stdin || undefined, onStdout: stream, onStderr: stream });
      if (pending !== "") log.output(urn, pending);
      if (result.code !== 0) {
        const status = result.code === null ? "wait: remote command exited without exit status or exit signal" : `Process exited with status ${result.code}`;
        // The provider's error carries the whole command and its output (commandOutputs.go run: `running %q`).
        throw new Error(`${status}: running ${JSON.stringify(command)}:\n${result.stdout}${result.stderr}`);
      }
      return { ...inputs, stdout: result.stdout.replace(/\n$/, ""), stderr: result.stderr.replace(/\n$/, "") };
    } finally {
      session.close();
    }
  };
  return {
    // No `create`: nothing runs (commandController.go Create).
    create: (urn, inputs) => (typeof inputs.create === "string" ? run(urn, inputs, inputs.create) : Promise.resolve({ ...inputs })),
    // `update` if set, else `create`, with the new inputs and connection (commandController.go Update).
    update: (urn, _olds, news) => {
      const command = typeof news.update === "string" ? news.update : news.create;
      return typeof command === "string" ? run(urn, news, command) : Promise.resolve({ ...news });
    },
    // The stored `delete` over the stored connection (commandController.go Delete: `req.State`).
    delete: async (urn, olds: StateResource) => {
      const state = { ...olds.inputs, ...olds.outputs };
      if (typeof state.delete !== "string") return false;
      await run(urn, state, state.delete);
      return true;
    },
  };
}

/**
 * `command:remote:CopyToRemote` (pulumi-command provider/pkg/provider/remote/copyController.go):
 * a FileArchive of a directory whose path ends in `/` lands file by file in `remotePath`; an update
 * copies again only when the source's hash or the remote path changed; there is no delete.
 */
export function copyToRemoteProvider(): Provider {
  const copy = async (inputs: Record<string, unknown>) => {
    const session = await dial(inputs.connection);
    try {
      await session.upload(inputs.remotePath as string, sourceFiles(inputs.source));
    } finally {
      session.close();
    }
    return { ...inputs };
  };
  return {
    create: (_urn, inputs) => copy(inputs),
    update: async (_urn, olds, news) => {
      const same = sourceHash(olds.inputs.source) === sourceHash(news.source) && olds.inputs.remotePath === news.remotePath;
      return same ? { ...news } : copy(news);
    },
    delete: async () => false,
  };
}

function sourceHash(source: unknown): string | undefined {
  return (source as { hash?: string } | undefined)?.hash;
}

/** The files of an asset or archive in wire form, as paths relative to the copy's destination. */
function sourceFiles(source: unknown): { path: string; content: Buffer | string }[] {
  const wire = source as Record<string, unknown>;
  if (wire[SIG_KEY] === ASSET_SIG) {
    if (typeof wire.text === "string") throw new Error("a text asset needs a file remotePath; not used by this program");
    return [{ path: path.basename(wire.path as string), content: readFileSync(wire.path as string) }];
  }
  if (wire[SIG_KEY] === ARCHIVE_SIG && typeof wire.path === "string") {
    const dir = wire.path;
    if (!dir.endsWith("/") || !statSync(dir).isDirectory()) throw new Error(`archive ${dir}: this harness copies only a directory given with a trailing /`);
    return listFiles(dir).map((relative) => ({ path: relative, content: readFileSync(path.join(dir, relative)) }));
  }
  throw new Error("CopyToRemote source must be a FileAsset or a FileArchive (copyController.go Check)");
}

export function listFiles(dir: string, prefix = ""): string[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const relative = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
      return entry.isDirectory() ? listFiles(dir, relative) : [relative];
    });
}
