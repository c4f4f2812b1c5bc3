import { parseArgs } from "node:util";
import { sandboxDown, sandboxStatus, sandboxUp, statusText, upSummary } from "./index";
import { SandboxError } from "./log";

const USAGE = `usage: npm run sandbox -- <up|down|status> [options]

  up       boot the sandbox host (builds the cached Debian root on first use)
  down     stop it and remove everything up created (the root cache stays)
  status   show whether it runs; exit 0 when running, 3 when not

options:
  --disk-size SIZE   size of the blank /dev/vdb image (default 16G)
  --state-dir DIR    state directory (default $SPARKS_SANDBOX_DIR, else <project>/.sandbox)
  --rebuild          rebuild the cached root (up)
  --json             machine-readable output (status)
  -h, --help         this help`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
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
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const [command, ...extra] = positionals;
  if (!command || extra.length > 0) throw new SandboxError(`expected one command: up, down or status\n${USAGE}`, 2);
  const stateDir = values["state-dir"];

  switch (command) {
    case "up": {
      const r = await sandboxUp({ stateDir, diskSize: values["disk-size"], rebuild: values.rebuild });
      process.stdout.write(upSummary(r) + "\n");
      return 0;
    }
    case "down":
      await sandboxDown({ stateDir });
      return 0;
    case "status": {
      const s = await sandboxStatus({ stateDir });
      process.stdout.write((values.json ? JSON.stringify(s, null, 2) : statusText(s)) + "\n");
      return s.running ? 0 : 3;
    }
    default:
      throw new SandboxError(`unknown command "${command}": expected up, down or status`, 2);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const err = e as Error & { code?: string };
    const usage = typeof err.code === "string" && err.code.startsWith("ERR_PARSE_ARGS");
    process.stderr.write(`sandbox: ${err.message ?? String(e)}\n`);
    process.exit(e instanceof SandboxError ? e.exitCode : usage ? 2 : 1);
  },
);
