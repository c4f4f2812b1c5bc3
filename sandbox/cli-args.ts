import { parseArgs } from "node:util";
import { SandboxError } from "./log";

export const COMMANDS = ["up", "down", "reboot", "status"] as const;
export type Command = (typeof COMMANDS)[number];

export const USAGE = `usage: npm run sandbox -- <up|down|reboot|status> [options]

  up       boot the sandbox host (builds the cached Debian root on first use)
  down     stop it and remove everything up created (the root cache stays)
  reboot   shut it down cleanly and boot the same root and /dev/vdb disk again
  status   show whether it runs; exit 0 when running, 3 when not

options:
  --disk-size SIZE   size of the blank /dev/vdb image (default 16G)
  --state-dir DIR    state directory (default $SPARKS_SANDBOX_DIR, else <project>/.sandbox)
  --rebuild          rebuild the cached root (up)
  --json             machine-readable output (status)
  -h, --help         this help`;

export type CliRequest =
  | { help: true }
  | { help: false; command: Command; stateDir?: string; diskSize?: string; rebuild: boolean; json: boolean };

/** Pure: argv after the script name to what to do. Usage errors are SandboxErrors with exit code 2. */
export function parseCli(argv: string[]): CliRequest {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        "disk-size": { type: "string" },
        "state-dir": { type: "string" },
        rebuild: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    throw new SandboxError(`${(e as Error).message}\n${USAGE}`, 2);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  const [command, ...extra] = positionals;
  const names = "up, down, reboot or status";
  if (!command || extra.length > 0) throw new SandboxError(`expected one command: ${names}\n${USAGE}`, 2);
  if (!(COMMANDS as readonly string[]).includes(command)) throw new SandboxError(`unknown command "${command}": expected ${names}`, 2);
  return {
    help: false,
    command: command as Command,
    stateDir: values["state-dir"],
    diskSize: values["disk-size"],
    rebuild: values.rebuild,
    json: values.json,
  };
}
