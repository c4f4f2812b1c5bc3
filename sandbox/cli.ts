import { defaultStatePath, StateFile } from "../apply/engine/state-file";
import { parseCli, USAGE } from "./cli-args";
import { rebootSummary, sandboxDown, sandboxReboot, sandboxStatus, sandboxUp, statusText, upSummary } from "./index";
import { SandboxError } from "./log";

async function main(argv: string[]): Promise<number> {
  const req = parseCli(argv);
  if (req.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const { stateDir } = req;
  // The sandbox stack's default deploy state describes the default sandbox host: a new host, or
  // none, makes it false, and an apply trusting it would create nothing.
  const forgetDeployState = () => {
    if (stateDir !== undefined || process.env.SPARKS_SANDBOX_DIR !== undefined) return;
    const state = new StateFile(defaultStatePath("sandbox"), "sandbox");
    if (state.forget()) process.stdout.write(`forgot the sandbox stack's deploy state (${state.file}): it described the previous sandbox host\n`);
  };

  switch (req.command) {
    case "up": {
      const r = await sandboxUp({ stateDir, diskSize: req.diskSize, rebuild: req.rebuild });
      if (!r.alreadyUp) forgetDeployState();
      process.stdout.write(upSummary(r) + "\n");
      return 0;
    }
    case "down":
      await sandboxDown({ stateDir });
      forgetDeployState();
      return 0;
    case "reboot": {
      const r = await sandboxReboot({ stateDir });
      process.stdout.write(rebootSummary(r) + "\n");
      return 0;
    }
    case "status": {
      const s = await sandboxStatus({ stateDir });
      process.stdout.write((req.json ? JSON.stringify(s, null, 2) : statusText(s)) + "\n");
      return s.running ? 0 : 3;
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    const err = e as Error;
    process.stderr.write(`sandbox: ${err.message ?? String(e)}\n`);
    process.exit(e instanceof SandboxError ? e.exitCode : 1);
  },
);
