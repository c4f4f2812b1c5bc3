import { SshSession } from "../lib/ssh";
import type { CommandConnection, PlannedCommand } from "./evaluate";

export interface RunSummary {
  /** Commands that ran. */
  ran: number;
  changed: number;
  /** Destroy: commands whose data stays (protected) or that have nothing to undo. */
  skipped: number;
  /** The command that failed, if one did; nothing after it ran. */
  failed?: string;
  seconds: number;
}

export interface RunOptions {
  destroy: boolean;
  log: (line: string) => void;
}

const RESULT_LINE = /^sparks-result: (changed|unchanged)$/m;

/**
 * Runs the commands over SSH the way the command provider would: `create` in registration order,
 * or `delete` in reverse order for a destroy. Stops at the first failure, as the engine stops a
 * resource's dependents.
 */
export async function runCommands(commands: PlannedCommand[], options: RunOptions): Promise<RunSummary> {
  const started = Date.now();
  const sessions = new Map<string, Promise<SshSession>>();
  const summary: RunSummary = { ran: 0, changed: 0, skipped: 0, seconds: 0 };
  try {
    for (const command of options.destroy ? [...commands].reverse() : commands) {
      const script = options.destroy ? command.delete : command.create;
      if (options.destroy && (command.retainOnDelete || !script)) {
        summary.skipped++;
        options.log(`- ${command.name}: ${command.retainOnDelete ? "protected, left in place" : "nothing to undo"}`);
        continue;
      }
      const session = await sessionFor(sessions, command.connection);
      const commandStarted = Date.now();
      options.log(`▶ ${command.name}`);
      const result = await session.exec(script as string, {
        stdin: command.stdin,
        onStdout: (chunk) => logLines(chunk, options.log),
        onStderr: (chunk) => logLines(chunk, options.log),
      });
      summary.ran++;
      const took = `${((Date.now() - commandStarted) / 1000).toFixed(1)}s`;
      if (result.code !== 0) {
        summary.failed = command.name;
        options.log(`✗ ${command.name}: ${result.code === null ? "no exit status" : `exit ${result.code}`} (${took})`);
        break;
      }
      const outcome = RESULT_LINE.exec(result.stdout)?.[1] ?? "changed";
      if (outcome === "changed") summary.changed++;
      options.log(`✓ ${command.name}: ${outcome} (${took})`);
    }
  } finally {
    for (const session of sessions.values()) session.then((s) => s.close(), () => undefined);
  }
  summary.seconds = (Date.now() - started) / 1000;
  return summary;
}

function sessionFor(sessions: Map<string, Promise<SshSession>>, connection: CommandConnection): Promise<SshSession> {
  const key = `${connection.user}@${connection.host}:${connection.port}`;
  let session = sessions.get(key);
  if (!session) {
    if (!connection.hostKey) throw new Error(`${key}: no pinned host key; refusing to connect`);
    session = SshSession.open(
      { host: connection.host, port: connection.port, user: connection.user, hostKey: connection.hostKey, privateKey: connection.privateKey },
      { attempts: connection.dialErrorLimit ?? 10, readyTimeoutMs: (connection.perDialTimeout ?? 15) * 1000 },
    );
    sessions.set(key, session);
  }
  return session;
}

function logLines(chunk: string, log: (line: string) => void): void {
  for (const line of chunk.split("\n")) {
    if (line !== "" && !RESULT_LINE.test(line)) log(`  │ ${line}`);
  }
}
