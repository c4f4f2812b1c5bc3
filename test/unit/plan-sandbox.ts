import { execFile } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

export interface PlanRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `npm run apply -- plan --stack sandbox` from an empty state (`stateDir`/none.json), against the
 * fixture sandbox's connection: what an operator's plan of a fresh sandbox stack prints.
 */
export function planSandbox(stateDir: string, args: string[]): Promise<PlanRun> {
  return new Promise((resolve) => {
    const child = execFile(
      path.join(ROOT, "node_modules/.bin/tsx"),
      ["apply/cli.ts", "plan", "--stack", "sandbox", "--state", path.join(stateDir, "none.json"), ...args],
      { cwd: ROOT, encoding: "utf8", env: { ...process.env, SPARKS_SANDBOX_DIR: path.join(ROOT, "test/fixtures/sandbox-state") } },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}
