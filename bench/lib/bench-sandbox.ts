// What every benchmark shares: its own sandbox state directory, stack file, manifest and engine
// state, the apply/verify CLIs run against that sandbox, and the median.
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../../lib/project-root";
import { sandboxDown, sandboxUp } from "../../sandbox";
import { type SandboxService, writeSandboxStackVariant } from "../../sandbox/stack-variant";

export const ROOT = projectRoot();
const TSX = path.join(ROOT, "node_modules/.bin/tsx");

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

export class BenchSandbox {
  /** `.sandbox-bench-<name>`: apart from the developer's `.sandbox` and the e2e tests' sandboxes. */
  readonly stateDir: string;
  readonly manifest: string;
  /** The engine state of this benchmark's deploys; a freshly booted host starts without one. */
  readonly deployState: string;
  private stackFile?: string;

  constructor(readonly name: string) {
    this.stateDir = path.join(ROOT, name ? `.sandbox-bench-${name}` : ".sandbox-bench");
    this.manifest = path.join(this.stateDir, "verify-manifest.json");
    this.deployState = path.join(this.stateDir, "deploy-state.json");
  }

  /** Boots a fresh sandbox host; the state of deploys to an earlier one no longer describes it. */
  async up(diskSize: string): Promise<void> {
    await sandboxUp({ stateDir: this.stateDir, diskSize });
    for (const file of [this.deployState, `${this.deployState}.key`]) rmSync(file, { force: true });
  }

  async down(): Promise<void> {
    await sandboxDown({ stateDir: this.stateDir });
  }

  /** The stack this benchmark applies: the sandbox stack with only `services`, after `edit`. */
  writeStack(services: readonly SandboxService[], edit?: (hosts: any[]) => void): void {
    this.stackFile = writeSandboxStackVariant(this.stateDir, `bench-${this.name}`, { services, edit });
  }

  /** Runs a project CLI (`apply/cli.ts`, `verify/cli.ts`) against this sandbox; rejects with its output on failure. */
  run(script: string, args: string[]): Promise<{ seconds: number; output: string }> {
    const started = process.hrtime.bigint();
    const { INIT_CWD: _startedIn, ...env } = process.env;
    return new Promise((resolve, reject) =>
      execFile(TSX, [script, ...args], { cwd: ROOT, env: { ...env, SPARKS_SANDBOX_DIR: this.stateDir }, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        if (error) reject(new Error(`${script} ${args.join(" ")} failed:\n${stdout}${stderr}`));
        else resolve({ seconds, output: stdout });
      }),
    );
  }

  /** Applies the stack written by writeStack (the sandbox stack as it is without one); returns the output. */
  apply(): Promise<{ seconds: number; output: string }> {
    const stack = this.stackFile ? ["--config-file", this.stackFile] : [];
    return this.run("apply/cli.ts", ["apply", "--stack", "sandbox", ...stack, "--state", this.deployState, "--manifest-out", this.manifest]);
  }

  verify(): Promise<{ seconds: number; output: string }> {
    return this.run("verify/cli.ts", ["--manifest", this.manifest]);
  }
}
