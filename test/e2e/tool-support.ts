import { X509Certificate } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { BUNDLE_REMOTE_DIR, renderRemoteCommand, shippedScriptBody, shippedScriptPath } from "../../components/host-script";
import { TLS_DEFAULTS } from "../../components/host-tls";
import { SshSession, type ExecResult } from "../../lib/ssh";
import { sandboxDown, sandboxUp } from "../../sandbox";
import { readConnection } from "../../sandbox/connection";
import { statePaths } from "../../sandbox/paths";
import { ROOT } from "./support";

const TOOL_SOURCE = path.join(ROOT, "host-tools");

export interface ToolHostOptions {
  /** The tool's command, also the name of its config file /etc/sparks/<tool>.json. */
  tool: "spark-pg" | "spark-redis";
  /** The subvolume the tool keeps its instances in, on the host's btrfs data volume. */
  root: string;
  /** The host's own state dir: a tool test never shares its host with the deploy tests. */
  stateDir: string;
  diskSize: string;
  installDir: string;
  /** Bash that installs what the tool needs (DEBIAN_FRONTEND is set); the data volume is made after it. */
  packages: string;
  config: object;
}

/**
 * A host tool from host-tools/ on a sandbox host of its own, and the shell helpers its tests use.
 * The helpers work once `upForTests` has brought the host up.
 */
export function toolSandboxHost(options: ToolHostOptions) {
  const { tool: toolName, stateDir, installDir } = options;
  let session: SshSession;

  const run = (command: string, stdin?: string): Promise<ExecResult> => session.exec(command, { stdin });
  /** Runs a command that must succeed; returns its stdout. */
  async function sh(command: string, stdin?: string): Promise<string> {
    const r = await run(command, stdin);
    if (r.code !== 0) throw new Error(`\`${command}\` exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }
  const tool = (args: string) => run(`${toolName} ${args}`);
  const status = async (name: string) => JSON.parse(await sh(`${toolName} status ${name} --json`));
  const uri = async (name: string) => (await sh(`${toolName} connect ${name} --uri`)).trim();
  const writeConfig = (config: object) => sh(`cat > /etc/sparks/${toolName}.json`, JSON.stringify(config));

  /** Runs `body` with the tool reading `config`, and puts the test's own config back even when it fails. */
  async function withConfig(config: object, body: () => Promise<void>): Promise<void> {
    await writeConfig(config);
    try {
      await body();
    } finally {
      await writeConfig(options.config);
    }
  }

  async function installTool(): Promise<void> {
    const files = [toolName, ...readdirSync(path.join(TOOL_SOURCE, "sparks_host")).filter((f) => f.endsWith(".py")).map((f) => `sparks_host/${f}`)];
    await sh(`rm -rf ${installDir} && mkdir -p ${installDir}/sparks_host`);
    for (const file of files) await sh(`cat > ${installDir}/${file}`, readFileSync(path.join(TOOL_SOURCE, file), "utf8"));
    await sh(`chmod 0755 ${installDir}/${toolName} && ln -sfn ${installDir}/${toolName} /usr/local/sbin/${toolName}`);
  }

  /**
   * The host's CA and server certificate, as the deploy's `<host>-tls-certificates` makes them: the
   * shipped script at its bundle path (the renew timer runs it again from there), called with its header.
   */
  async function runTlsScript(addresses: string[], ca?: { certificate: string; key: string }): Promise<ExecResult> {
    const script = "host/tls.sh";
    const shipped = `${BUNDLE_REMOTE_DIR}/${shippedScriptPath(script)}`;
    await sh(`mkdir -p ${path.posix.dirname(shipped)} && cat > ${shipped}`, shippedScriptBody(script));
    const params = {
      ADDRESSES: addresses,
      VALID_DAYS: TLS_DEFAULTS.validDays,
      RENEW_DAYS: TLS_DEFAULTS.renewDays,
      CA_SOURCE: ca ? "operator" : "host",
      CA_FINGERPRINT: ca ? new X509Certificate(ca.certificate).fingerprint256 : "",
      CONVERGE: "",
      RESOURCE: `urn:pulumi:e2e::sparks::${toolName}-tls-certificates`,
    };
    // The deploy sends the operator's key on stdin, and nothing otherwise (the provider sends no empty stdin).
    return run(renderRemoteCommand(script, params, ca ? [{ content: ca.certificate }] : []), ca?.key);
  }

  async function issueCertificate(...addresses: string[]): Promise<void> {
    const r = await runTlsScript(addresses);
    if (r.code !== 0) throw new Error(`host/tls.sh exited ${r.code}: ${r.stderr}${r.stdout}`);
  }

  /** Boots and prepares the host before the enclosing describe block's tests, and takes it down after them. */
  function upForTests(): void {
    beforeAll(async () => {
      const started = Date.now();
      await sandboxUp({ stateDir, diskSize: options.diskSize });
      const connection = readConnection(statePaths(stateDir).connection);
      if (!connection) throw new Error(`no connection file in ${stateDir}`);
      session = await SshSession.open(
        { host: connection.address, port: connection.port, user: connection.user, hostKey: connection.hostKey, privateKey: readFileSync(connection.privateKeyPath, "utf8") },
        { attempts: 5 },
      );
      await sh(hostSetup(options));
      await issueCertificate((options.config as { listen: string }).listen);
      await installTool();
      await writeConfig(options.config);
      console.log(`${toolName} host ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    });
    afterAll(async () => {
      session?.close();
      await sandboxDown({ stateDir });
    });
  }

  return { run, sh, tool, status, uri, withConfig, upForTests, issueCertificate, runTlsScript };
}

function hostSetup({ packages, root }: ToolHostOptions): string {
  return `set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
${packages}
mkfs.btrfs -q -f -L sparks-data /dev/vdb
mkdir -p /srv/sparks
mount -o noatime /dev/vdb /srv/sparks
btrfs quota enable /srv/sparks
btrfs subvolume create ${root} >/dev/null
mkdir -p /etc/sparks`;
}

/**
 * What a failed or refused command must leave exactly as it was: instances, snapshots, passwords,
 * units of `tool`, whose instances live under `root`.
 */
export function footprint(tool: string, root: string): string {
  return `ls -1a ${root} ${root}/.snapshots /etc/sparks/${tool}
ls -1 /etc/systemd/system /etc/systemd/system/multi-user.target.wants /etc/systemd/system/timers.target.wants 2>/dev/null | grep ${tool} || true
btrfs subvolume list -o ${root} | awk '{print $NF}'
btrfs subvolume list -o ${root}/.snapshots | awk '{print $NF}'
systemctl list-units --plain --no-legend --state=active,activating,failed,auto-restart '${tool}*' | awk '{print $1, $3, $4}'`;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
