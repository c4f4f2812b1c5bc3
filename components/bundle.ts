import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../lib/project-root";
import { SCRIPTS_DIR, shippedScriptBody, shippedScriptPath } from "./host-script";

/** Where the host tools' source lives in this repository. */
export const HOST_TOOLS_DIR = path.join(__dirname, "..", "host-tools");

/** Each host tool's files, relative to HOST_TOOLS_DIR; the entry (the tool's name) first. */
export const HOST_TOOL_FILES = {
  "spark-pg": ["spark-pg", "sparks_host/__init__.py", "sparks_host/cli.py", "sparks_host/instances.py", "sparks_host/pg.py", "sparks_host/pgwire.py", "sparks_host/tls.py"],
  "spark-redis": ["spark-redis", "sparks_host/__init__.py", "sparks_host/cli.py", "sparks_host/instances.py", "sparks_host/redis.py", "sparks_host/resp.py", "sparks_host/tls.py"],
} as const;
export type HostToolName = keyof typeof HOST_TOOL_FILES;

/** One tool's files on the host, relative to the bundle: named by a hash of their content. */
export function shippedToolDir(tool: HostToolName): string {
  const hash = createHash("sha256");
  for (const file of HOST_TOOL_FILES[tool]) hash.update(`${file}\0`).update(readFileSync(path.join(HOST_TOOLS_DIR, file))).update("\0");
  return `tools/${tool}-${hash.digest("hex").slice(0, 12)}`;
}

let built: string | undefined;

/**
 * The bundle every host gets with one CopyToRemote: each host script (library inlined) and each
 * host tool under a content-addressed name, so versions sit side by side and a stored delete
 * still finds the script it was created with. Built once per process into
 * `.sparks/bundle/<hash>/`; returns that directory with a trailing `/`, which makes the provider
 * copy its contents into the remote path (copyController.go sftpCopy).
 */
export function bundleDir(): string {
  if (built !== undefined) return built;
  const files = new Map<string, string>();
  for (const script of hostScripts()) files.set(shippedScriptPath(script), shippedScriptBody(script));
  for (const tool of Object.keys(HOST_TOOL_FILES) as HostToolName[]) {
    for (const file of HOST_TOOL_FILES[tool]) files.set(`${shippedToolDir(tool)}/${file}`, readFileSync(path.join(HOST_TOOLS_DIR, file), "utf8"));
  }
  const hash = createHash("sha256");
  for (const [file, content] of [...files].sort(([a], [b]) => a.localeCompare(b))) hash.update(`${file}\0${content}\0`);
  const parent = path.join(projectRoot(), ".sparks", "bundle");
  const dir = path.join(parent, hash.digest("hex").slice(0, 16));
  if (!existsSync(dir)) {
    mkdirSync(parent, { recursive: true });
    // Built aside and renamed into place: two programs evaluated at once never see half a bundle.
    const staging = mkdtempSync(path.join(parent, ".staging-"));
    for (const [file, content] of files) {
      mkdirSync(path.dirname(path.join(staging, file)), { recursive: true });
      writeFileSync(path.join(staging, file), content);
    }
    try {
      renameSync(staging, dir);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(dir)) throw error;
    }
  }
  built = `${dir}/`;
  return built;
}

/**
 * The bundle as the copy's source: relative to the directory the program runs in (the project's,
 * under the engine), so the input is the same from every checkout and only a content change is a change.
 */
export function bundleArchivePath(): string {
  return `${path.relative(process.cwd(), bundleDir().slice(0, -1)) || "."}/`;
}

/** Every host script, relative to SCRIPTS_DIR (the library is inlined into each, not shipped alone). */
export function hostScripts(dir = SCRIPTS_DIR, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const relative = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) return relative === "lib" ? [] : hostScripts(path.join(dir, entry.name), relative);
    return entry.name.endsWith(".sh") ? [relative] : [];
  });
}
