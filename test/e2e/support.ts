import { execFile } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { projectRoot } from "../../lib/project-root";
import { sandboxDown, sandboxUp } from "../../sandbox";
import { readConnection } from "../../sandbox/connection";
import type { SandboxNetwork } from "../../sandbox/network-plan";
import { statePaths } from "../../sandbox/paths";
import { sh } from "../../sandbox/sh";
import { openSandboxSession } from "../../sandbox/session";
import { type SandboxService, writeSandboxStackVariant } from "../../sandbox/stack-variant";
import type { ExecResult } from "../../lib/ssh";
import type { RunSummary } from "../../apply/run";
import { pulumiApply, usePulumiEngine } from "./pulumi-engine";

export const ROOT = projectRoot();
/** The e2e tests' own sandbox, apart from one a developer may have up in `.sandbox`. */
export const E2E_SANDBOX_DIR = path.join(ROOT, ".sandbox-e2e");

export const RESULTS = path.join(ROOT, "test-results");

/**
 * Writes test-results/Pulumi.sandbox-<name>.yaml: the sandbox stack with only `services`, after
 * `edit`, with `sparks:converge` set to `converge` when given.
 */
export function sandboxStackFile(name: string, services: readonly SandboxService[], edit?: (hosts: any[]) => void, converge?: string): string {
  return writeSandboxStackVariant(RESULTS, name, { services, edit, converge });
}

/** The network of the sandbox host up in `stateDir`; call it once the file's sandbox is up. */
export function sandboxNetwork(stateDir: string): SandboxNetwork {
  const connection = readConnection(statePaths(stateDir).connection);
  if (!connection?.network) throw new Error(`no sandbox host with a network is up in ${stateDir}`);
  return connection.network;
}

/**
 * A stack edit for the sandbox up in `stateDir`: spark-pg and Redis listen on the container's veth
 * address and declare the machine's end as their client, so verify --from-here on the machine reaches them.
 */
export function listenWhereTheMachineReaches(stateDir: string): (host: any) => void {
  return (host) => {
    const n = sandboxNetwork(stateDir);
    for (const service of [host.sparkPg, host.redis]) {
      if (service === undefined) continue;
      service.listen = n.containerAddress;
      service.clients = [`${n.machineAddress}/32`];
    }
  };
}

/** The /24 of the sandbox's veth, e.g. a network a manifest may declare. */
export const vethNetwork = (n: SandboxNetwork): string => `${n.containerAddress.replace(/\.\d+$/, ".0")}/${n.prefixLength}`;

/**
 * Runs `fn` with `address` added on the machine's end of the veth: a client address the stack does
 * not declare, removed again after.
 */
export async function withMachineAddress<T>(n: SandboxNetwork, address: string, fn: () => Promise<T>): Promise<T> {
  await sh`ip addr add ${`${address}/${n.prefixLength}`} dev ${n.machineInterface}`;
  try {
    return await fn();
  } finally {
    await sh`ip addr del ${`${address}/${n.prefixLength}`} dev ${n.machineInterface}`.nothrow();
  }
}

/** The sandbox stack with only its host and btrfs volumes: the btrfs tests need no services. */
export function btrfsOnlySandboxStack(name: string, edit?: (hosts: any[]) => void, converge?: string): string {
  return sandboxStackFile(name, [], edit, converge);
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

/** e2eBlocker for one file's `tests`: fails the run under CI, and says what it skips elsewhere. */
export function e2eBlockerFor(tests: string): string | undefined {
  const blocker = e2eBlocker();
  if (blocker && process.env.CI) throw new Error(`e2e tests must run under CI, but cannot: ${blocker}`);
  if (blocker) console.warn(`skipping ${tests}: ${blocker}`);
  return blocker;
}

/** Boots a sandbox host in `stateDir` before the enclosing describe block's tests and takes it down after them. */
export function sandboxHostForTests(stateDir: string, diskSize: string, hookTimeout?: number): void {
  beforeAll(async () => {
    mkdirSync(RESULTS, { recursive: true });
    await sandboxUp({ stateDir, diskSize });
  }, hookTimeout);
  afterAll(async () => {
    await sandboxDown({ stateDir });
  }, hookTimeout);
}

export interface CliRun {
  code: number | null;
  /** stdout then stderr. */
  output: string;
  stdout: string;
  seconds: number;
}

/** The `--json` summary apply or plan printed (alone on stdout). */
export const summaryOf = (run: CliRun): RunSummary => JSON.parse(run.stdout) as RunSummary;

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
      (_error, stdout, stderr) => resolve({ code: child.exitCode, output: stdout + stderr, stdout, seconds: (Date.now() - started) / 1000 }),
    );
  });
}

/** A root shell on the sandbox host, for breaking it and for reading its state. */
export async function sandboxShell(stateDir = E2E_SANDBOX_DIR): Promise<{ run: (command: string) => Promise<ExecResult>; close: () => void }> {
  const session = await openSandboxSession(stateDir);
  return { run: (command) => session.exec(command), close: () => session.close() };
}

/** Runs one command in a root shell of its own on the sandbox host in `stateDir`. */
export function onSandboxHost(stateDir: string): (command: string) => Promise<ExecResult> {
  return async (command) => {
    const shell = await sandboxShell(stateDir);
    try {
      return await shell.run(command);
    } finally {
      shell.close();
    }
  };
}

/**
 * apply and verify as an operator runs them on the sandbox host in `stateDir`, with this file's own
 * `manifest` (verify reads what apply wrote) and engine state (`<manifest>.state.json`, begun
 * afresh: each file boots a new sandbox host), and a shell on that host. With
 * SPARKS_E2E_ENGINE=pulumi, apply is the real `pulumi up` (./pulumi-engine.ts).
 */
export function sandboxDeploy(stateDir: string, manifest: string) {
  const state = `${manifest.replace(/\.json$/, "")}.state.json`;
  for (const file of [state, `${state}.key`, `${state}.pulumi`]) rmSync(file, { force: true, recursive: true });
  return {
    state,
    apply: (configFile: string, ...args: string[]) =>
      usePulumiEngine()
        ? pulumiApply({ root: ROOT, sandboxDir: stateDir, configFile, stateFile: state, manifest, args })
        : runCli("apply/cli.ts", ["apply", "--stack", "sandbox", "--config-file", configFile, "--state", state, "--manifest-out", manifest, ...args], stateDir),
    verify: (junit: string, ...args: string[]) => runCli("verify/cli.ts", ["--manifest", manifest, "--junit", path.join(RESULTS, junit), ...args], stateDir),
    onHost: onSandboxHost(stateDir),
  };
}
