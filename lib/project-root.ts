import { existsSync } from "node:fs";
import path from "node:path";

let cached: string | undefined;

/**
 * The package root: where package.json, the `Pulumi.*.yaml` stack files and `.sparks/` live. Found
 * by walking up from this file, so it holds however the code runs (tsx, vitest, a compiled copy).
 */
export function projectRoot(): string {
  if (cached !== undefined) return cached;
  let dir = path.resolve(__dirname, "..");
  while (!existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = parent;
  }
  cached = dir;
  return dir;
}
