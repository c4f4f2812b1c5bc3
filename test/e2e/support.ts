import { execFile } from "node:child_process";
import * as path from "node:path";
import { projectRoot } from "../../lib/project-root";
import { openSandboxSession } from "../../sandbox/session";
import { type SandboxService, writeSandboxStackVariant } from "../../sandbox/stack-variant";
import type { ExecResult } from "../../lib/ssh";

export const ROOT = projectRoot();
/** The e2e tests' own sandbox, apart from one a developer may have up in `.sandbox`. */
export const E2E_SANDBOX_DIR = path.join(ROOT, ".sandbox-e2e");

export const RESULTS = path.join(ROOT, "test-results");

/** Writes test-results/Pulumi.sandbox-<name>.yaml: the sandbox stack with only `services`, after `edit`. */
export function sandboxStackFile(name: string, services: readonly SandboxService[], edit?: (hosts: any[]) => void): string {
  return writeSandboxStackVariant(RESULTS, name, { services, edit });
}

/** The sandbox stack with only its host and btrfs volumes: the btrfs tests need no services. */
export function btrfsOnlySandboxStack(name: string, edit?: (hosts: any[]) => void): string {
  return sandboxStackFile(name, [], edit);
}

/**
 * Why the e2e tests cannot run here, or undefined when they can. Under CI they must run, so CI
 * turns this reason into a failure instead of a skip.
 */
export function e2eBlocker(): string | undefined {
  if (process.platform !== "linux") return `the sandbox host needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return "the sandbox host needs root (loop devices, mounts, systemd-nspawn)";
  return undefined;
}

export interface CliRun {
  code: number | null;
  output: string;
  seconds: number;
}

/**
 * Runs one of the project's CLIs as an operator would, against the e2e sandbox, from the project
 * root: relative paths are taken from there, not from where `npm run` started the tests (INIT_CWD).
 */
export function runCli(script: string, args: string[], stateDir = E2E_SANDBOX_DIR): Promise<CliRun> {
  const started = Date.now();
  const { INIT_CWD: _startedIn, ...env } = process.env;
  return new Promise((resolve) => {
    const child = execFile(
      path.join(ROOT, "node_modules/.bin/tsx"),
      [script, ...args],
      { cwd: ROOT, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, env: { ...env, SPARKS_SANDBOX_DIR: stateDir } },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, output: stdout + stderr, seconds: (Date.now() - started) / 1000 }),
    );
  });
}

/** A root shell on the sandbox host, for breaking it and for reading its state. */
export async function sandboxShell(stateDir = E2E_SANDBOX_DIR): Promise<{ run: (command: string) => Promise<ExecResult>; close: () => void }> {
  const session = await openSandboxSession(stateDir);
  return { run: (command) => session.exec(command), close: () => session.close() };
}
