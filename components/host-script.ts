import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { renderHeader, type ScriptParams } from "./shell";

export const SCRIPTS_DIR = path.join(__dirname, "scripts");

const scriptCache = new Map<string, string>();

function readScript(relativePath: string): string {
  let text = scriptCache.get(relativePath);
  if (text === undefined) {
    text = readFileSync(path.join(SCRIPTS_DIR, relativePath), "utf8");
    scriptCache.set(relativePath, text);
  }
  return text;
}

/** Ends the parameter header, so a plan can show a command's parameters without its whole script. */
export const HEADER_END = "# --- end of parameters ---";

const INCLUDE_LINE = /^# sparks-include: (\S+)$/gm;

/**
 * The script as it runs on the host: the parameter header, the shared library, then the script
 * itself (its shebang dropped, each `# sparks-include: lib/x.sh` line replaced by that file).
 */
export function renderScriptBody(script: string, params: ScriptParams): string {
  const body = readScript(script)
    .replace(/^#!.*\n/, "")
    .replace(INCLUDE_LINE, (_line, include: string) => readScript(include).replace(/\n$/, ""));
  return [`# ${script}`, renderHeader(params), HEADER_END, readScript("lib/common.sh"), body].join("\n");
}

/**
 * The remote command that runs a host script: bash reads the script from a quoted here-document on
 * fd 3, which leaves stdin free for secrets and keeps the script readable verbatim in a diff.
 */
export function renderRemoteCommand(script: string, params: ScriptParams): string {
  const body = renderScriptBody(script, params);
  const delimiter = `SPARKS_SCRIPT_${createHash("sha256").update(body).digest("hex").slice(0, 12)}`;
  return `bash /dev/fd/3 3<<'${delimiter}'\n${body.replace(/\n*$/, "\n")}${delimiter}\n`;
}
