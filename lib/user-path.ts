import { homedir } from "node:os";
import path from "node:path";

/**
 * A path typed on a command line, made absolute. npm runs scripts from the package root, so a
 * relative path is resolved against `INIT_CWD` (where the user typed `npm run`), else the working
 * directory. A leading `~/` is the home directory: only bash expands it, and only in some words
 * (`KEY=~/f` yes, `--flag=~/f` no).
 */
export function userPath(file: string, env: NodeJS.ProcessEnv = process.env): string {
  const expanded = file === "~" || file.startsWith("~/") ? path.join(homedir(), file.slice(1)) : file;
  return path.resolve(env.INIT_CWD || process.cwd(), expanded);
}
