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
 * The script without its parameters, as it is shipped to the host: the shared library, then the
 * script itself (its shebang dropped, each `# sparks-include: lib/x.sh` line replaced by that file).
 */
export function shippedScriptBody(script: string): string {
  const body = readScript(script)
    .replace(/^#!.*\n/, "")
    .replace(INCLUDE_LINE, (_line, include: string) => readScript(include).replace(/\n$/, ""));
  return [`# ${script}`, readScript("lib/common.sh"), body].join("\n");
}

/** The script as it runs on the host: the parameter header, then the shipped body. */
export function renderScriptBody(script: string, params: ScriptParams): string {
  return [`# ${script}`, renderHeader(params), HEADER_END, shippedScriptBody(script)].join("\n");
}

/** Where the deploy ships host scripts and host tools (components/bundle.ts): root-owned, content-addressed names. */
export const BUNDLE_REMOTE_DIR = "/usr/local/lib/sparks/bundle";

/**
 * The shipped script's path on the host, relative to BUNDLE_REMOTE_DIR: named by a hash of what it
 * runs (library included), so a stored delete finds exactly the version it was created with, and
 * a command changes exactly when the code it runs does.
 */
export function shippedScriptPath(script: string): string {
  const hash = createHash("sha256").update(shippedScriptBody(script)).digest("hex").slice(0, 12);
  return `scripts/${script.replace(/\.sh$/, "")}-${hash}.sh`;
}

/** A file the remote command carries to the host: the script reads it from its own fd. */
export interface CarriedFile {
  /** What the file holds; text ending in a newline (a here-document always ends with one). */
  content: string;
}

/** The fd the first carried file arrives on; the next ones follow (5, 6, ...). */
export const FIRST_FILE_FD = 4;

/**
 * A here-document's delimiter: a plain name, so an edit changes only the lines it edits (a
 * content-hash delimiter would change the first and last line of every edited command in a
 * diff), unless a line of the content is that name: then one with a hash of the content, which
 * the content cannot hold.
 */
const delimiterFor = (prefix: string, text: string) =>
  text.split("\n").includes(prefix) ? `${prefix}_${createHash("sha256").update(text).digest("hex").slice(0, 12)}` : prefix;

/**
 * The remote command that runs a shipped host script: its parameter header, then a line that
 * sources the installed script (BUNDLE_REMOTE_DIR). A reviewer's diff shows the values by name, and
 * a script change as one changed path; a failure message stays a few lines long.
 */
export function renderRemoteCommand(script: string, params: ScriptParams, files: readonly CarriedFile[] = []): string {
  const call = [`# ${script}`, renderHeader(params), HEADER_END, `. ${BUNDLE_REMOTE_DIR}/${shippedScriptPath(script)}`].join("\n");
  return renderHereDocs(call, script, files);
}

/**
 * The remote command that carries its whole script, for what runs before the bundle is shipped
 * (wait-for-ssh) and for tests that run a script on its own.
 */
export function renderInlineCommand(script: string, params: ScriptParams, files: readonly CarriedFile[] = []): string {
  return renderHereDocs(renderScriptBody(script, params), script, files);
}

/**
 * bash reads the script from a quoted here-document on fd 3, which leaves stdin free for secrets and
 * keeps the script readable verbatim in a diff. Each of `files` rides the same way on fd 4, 5, ...
 * (the script reads `/dev/fd/4`), so a reviewer sees a file's content change in the diff too.
 * No line of a file or script can end its here-document early (delimiterFor).
 */
function renderHereDocs(body: string, script: string, files: readonly CarriedFile[]): string {
  const docs = [
    { fd: 3, delimiter: delimiterFor("SPARKS_SCRIPT", body), content: body.replace(/\n*$/, "\n") },
    ...files.map((file, index) => {
      if (!file.content.endsWith("\n")) {
        throw new Error(`file ${index + 1} carried by ${script} must end with a newline: a here-document always adds one`);
      }
      const fd = FIRST_FILE_FD + index;
      return { fd, delimiter: delimiterFor(`SPARKS_FILE${fd}`, file.content), content: file.content };
    }),
  ];
  const redirections = docs.map((doc) => `${doc.fd}<<'${doc.delimiter}'`).join(" ");
  return `bash /dev/fd/3 ${redirections}\n${docs.map((doc) => `${doc.content}${doc.delimiter}\n`).join("")}`;
}
