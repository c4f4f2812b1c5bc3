// SPARKS_E2E_ENGINE=pulumi: the e2e deploys go through the real `pulumi up` on a local backend
// instead of the sandbox engine. Thin on purpose: the Pulumi CLI cannot be installed on our
// machines, so this path has never run here. Tests that read the sandbox engine's own `--json`
// summary or its state file fail under it; the host checks and verify are the same.
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { CliRun } from "./support";

export const usePulumiEngine = (): boolean => process.env.SPARKS_E2E_ENGINE === "pulumi";

function pulumi(args: string[], cwd: string, env: NodeJS.ProcessEnv, input?: string): Promise<CliRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile("pulumi", args, { cwd, encoding: "utf8", maxBuffer: 64 << 20, env }, (_error, stdout, stderr) =>
      resolve({ code: child.exitCode, output: stdout + stderr, stdout, seconds: (Date.now() - started) / 1000 }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/**
 * What `apply` does for one e2e file, through `pulumi up` (or `pulumi destroy` for --destroy) with
 * the stack's state in a file backend beside `stateFile`; `--secret KEY=FILE` becomes
 * `pulumi config set --secret --path`, and the verify manifest is the stack output.
 */
export async function pulumiApply(opts: { root: string; sandboxDir: string; configFile: string; stateFile: string; manifest: string; args: string[] }): Promise<CliRun> {
  const backend = `${opts.stateFile}.pulumi`;
  mkdirSync(backend, { recursive: true });
  const env = { ...process.env, SPARKS_SANDBOX_DIR: opts.sandboxDir, PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: "sparks-e2e" };
  const stack = ["--stack", "sandbox", "--config-file", opts.configFile, "--non-interactive"];
  await pulumi(["stack", "init", "sandbox", "--non-interactive"], opts.root, env);
  const upArgs: string[] = [];
  let destroy = false;
  for (let i = 0; i < opts.args.length; i++) {
    const arg = opts.args[i];
    if (arg === "--destroy") destroy = true;
    else if (arg === "--exclude-protected") upArgs.push(arg);
    else if (arg === "--parallel") upArgs.push(arg, opts.args[++i]);
    else if (arg === "--replace") {
      const target = opts.args[++i];
      if (!target.startsWith("urn:")) throw new Error(`--replace ${target}: pulumi up --replace takes a URN`);
      upArgs.push(arg, target);
    }
    else if (arg === "--secret") {
      const [key, file] = opts.args[++i].split(/=(.*)/s, 2);
      const set = await pulumi(["config", "set", "--secret", "--path", ...stack, key], opts.root, env, readFileSync(file, "utf8"));
      if (set.code !== 0) return set;
    } else if (arg !== "--json") throw new Error(`${arg}: no pulumi equivalent in this switch`);
  }
  const run = await pulumi([destroy ? "destroy" : "up", "--yes", "--skip-preview", ...stack, ...upArgs], opts.root, env);
  if (run.code !== 0 || destroy) return run;
  const manifest = await pulumi(["stack", "output", "verifyManifest", "--json", "--show-secrets", ...stack.slice(0, 2)], opts.root, env);
  if (manifest.code !== 0) return manifest;
  writeFileSync(opts.manifest, manifest.stdout, { mode: 0o600 });
  return { ...run, output: `${run.output}\nmanifest written to ${path.relative(opts.root, opts.manifest)}\n` };
}
