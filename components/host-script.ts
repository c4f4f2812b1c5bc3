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

/** A file the remote command carries to the host: the script reads it from its own fd. */
export interface CarriedFile {
  /** What the file holds; text ending in a newline (a here-document always ends with one). */
  content: string;
}

/** The fd the first carried file arrives on; the next ones follow (5, 6, ...). */
export const FIRST_FILE_FD = 4;

const hashed = (prefix: string, text: string) => `${prefix}_${createHash("sha256").update(text).digest("hex").slice(0, 12)}`;

/**
 * The remote command that runs a host script: bash reads the script from a quoted here-document on
 * fd 3, which leaves stdin free for secrets and keeps the script readable verbatim in a diff. Each
 * of `files` rides the same way on fd 4, 5, ... (the script reads `/dev/fd/4`), so a reviewer sees
 * a file's content change in the diff too. Delimiters are hashes of what they close, so no line of
 * a file or script can end its here-document early.
 */
export function renderRemoteCommand(script: string, params: ScriptParams, files: readonly CarriedFile[] = []): string {
  const body = renderScriptBody(script, params);
  const docs = [
    { fd: 3, delimiter: hashed("SPARKS_SCRIPT", body), content: body.replace(/\n*$/, "\n") },
    ...files.map((file, index) => {
      if (!file.content.endsWith("\n")) {
        throw new Error(`file ${index + 1} carried by ${script} must end with a newline: a here-document always adds one`);
      }
      const fd = FIRST_FILE_FD + index;
      return { fd, delimiter: hashed(`SPARKS_FILE${fd}`, file.content), content: file.content };
    }),
  ];
  const redirections = docs.map((doc) => `${doc.fd}<<'${doc.delimiter}'`).join(" ");
  return `bash /dev/fd/3 ${redirections}\n${docs.map((doc) => `${doc.content}${doc.delimiter}\n`).join("")}`;
}
