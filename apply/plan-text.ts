import { HEADER_END } from "../components/host-script";
import type { PlannedCommand } from "./evaluate";
import { redact } from "./redact";

export interface PlanTextOptions {
  destroy: boolean;
  /** Print each command's whole script, not only its parameters. */
  full: boolean;
  /** Secret values to mask wherever they appear. */
  secrets: string[];
}

/** What apply would run, for a reviewer: one block per command, secrets redacted. */
export function renderPlan(commands: PlannedCommand[], options: PlanTextOptions): string {
  const steps = options.destroy ? [...commands].reverse() : commands;
  const blocks = steps.map((command) => {
    const { user, host, port } = command.connection;
    const target = `${user}@${host}:${port}`;
    if (options.destroy) {
      if (command.retainOnDelete) return `retain ${command.name} on ${target} (protected: destroy leaves it in place)`;
      if (!command.delete) return `forget ${command.name} on ${target} (nothing to undo)`;
      return [`delete ${command.name} on ${target}`, ...scriptLines(command.delete, options.full)].join("\n");
    }
    const stdin = command.stdin === undefined ? [] : ["    stdin: [secret]"];
    return [`create ${command.name} on ${target}`, ...scriptLines(command.create, options.full), ...stdin].join("\n");
  });
  return redact([...blocks, summaryLine(steps, options.destroy)].join("\n\n"), options.secrets) + "\n";
}

function scriptLines(remoteCommand: string, full: boolean): string[] {
  const lines = remoteCommand.split("\n").slice(1, -2);
  const shown = full ? lines : lines.slice(0, lines.indexOf(HEADER_END));
  return shown.map((line) => `    ${line}`);
}

function summaryLine(commands: PlannedCommand[], destroy: boolean): string {
  if (!destroy) return `${commands.length} commands would run.`;
  const retained = commands.filter((c) => c.retainOnDelete).length;
  const deletes = commands.filter((c) => !c.retainOnDelete && c.delete).length;
  return `${deletes} delete commands would run; ${retained} protected resources would be left in place.`;
}
