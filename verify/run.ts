import { readFileSync } from "node:fs";
import path from "node:path";
import { HostKeyMismatchError, type SessionOptions, SshConnectError, type SshEndpoint, SshSession } from "../lib/ssh";
import { findings, withCauses } from "./causes";
import { checkBtrfsVolume, plannedBtrfsVolumeChecks } from "./checks/btrfs-volume";
import { checkHost, plannedHostChecks } from "./checks/host";
import { fail, pass, skip } from "./checks/result";
import { checkKvm, plannedKvmChecks } from "./checks/kvm-guest";
import { checkSparkPg, plannedSparkPgChecks } from "./checks/spark-pg";
import { checkSparkPgDeep, plannedSparkPgDeepChecks } from "./checks/spark-pg-deep";
import { checkRedis, plannedRedisChecks } from "./checks/redis";
import { checkRedisDeep, plannedRedisDeepChecks } from "./checks/redis-deep";
import { checkFromOutside, plannedOutsideChecks } from "./checks/outside";
import { checkTls, plannedTlsChecks } from "./checks/tls";
import { checkFirewall, plannedFirewallChecks } from "./checks/firewall";
import type { HostExpectation, VerifyManifest } from "./manifest";
import type { CheckResult, Exec, HostResult, PlannedCheck, Summary, VerifyResult } from "./types";

/** Verify's SSH session options; commands time out after 60 s unless `commandTimeoutMs` says otherwise. */
export interface VerifyOptions extends SessionOptions {
  /** Private key file for every host; wins over each host's `ssh.identityFile`. */
  identityFile?: string;
  /** Directory a relative `ssh.identityFile` is resolved against (the manifest's own). Default: cwd. */
  manifestDir?: string;
  /** ssh-agent socket, used when no key file is given. Default: `SSH_AUTH_SOCK`. */
  agent?: string;
  /** Also run the deep checks: a fork round trip on each host's first non-fork spark-pg instance. */
  deep?: boolean;
  /** Also connect to each service instance from where verify runs (checks/outside.ts). */
  fromHere?: boolean;
  /** The local address those connections come from; default the one the route picks. */
  source?: string;
}

/** Which checks run on a host. */
export interface HostCheckOptions {
  deep?: boolean;
  fromHere?: boolean;
  source?: string;
}

export const sshCheckNames = { hostKey: "ssh host key", connect: "ssh connect" };

const COMMAND_TIMEOUT_MS = 60_000;

type SshAuth = Pick<SshEndpoint, "privateKey" | "agent">;

/** Checks every host of the manifest, concurrently, over one SSH connection per host. */
export async function runVerify(manifest: VerifyManifest, options: VerifyOptions = {}): Promise<VerifyResult> {
  const hosts = await Promise.all(manifest.hosts.map((host) => verifyHost(host, options)));
  return { project: manifest.project, stack: manifest.stack, hosts, summary: summarize(hosts) };
}

export async function verifyHost(host: HostExpectation, options: VerifyOptions): Promise<HostResult> {
  const result = (checks: CheckResult[], unreachable?: string): HostResult => ({
    name: host.name,
    target: sshTargetText(host),
    ...(unreachable === undefined ? {} : { unreachable }),
    checks: withCauses(host, checks),
  });
  const expectedConnect = `login as ${host.ssh.user}`;

  let auth: SshAuth;
  try {
    auth = chooseAuth(host, options);
  } catch (error) {
    return result(
      [
        skip(sshCheckNames.hostKey, "no connection attempted"),
        fail(sshCheckNames.connect, expectedConnect, (error as Error).message),
        ...notRun(host, options, "no SSH connection"),
      ],
      (error as Error).message,
    );
  }

  let session: SshSession;
  try {
    const { address, port, user, hostKey } = host.ssh;
    session = await SshSession.open(
      { host: address, port, user, hostKey, ...auth },
      { ...options, commandTimeoutMs: options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS },
    );
  } catch (error) {
    if (error instanceof HostKeyMismatchError) {
      return result([
        fail(sshCheckNames.hostKey, error.expected, error.found, "the host presented another key than the pinned one"),
        skip(sshCheckNames.connect, "host key refused"),
        ...notRun(host, options, "host key refused"),
      ]);
    }
    const verified = error instanceof SshConnectError && error.hostKeyVerified;
    return result(
      [
        verified ? pass(sshCheckNames.hostKey) : skip(sshCheckNames.hostKey, "no key exchange"),
        fail(sshCheckNames.connect, expectedConnect, (error as Error).message),
        ...notRun(host, options, "no SSH connection"),
      ],
      (error as Error).message,
    );
  }

  try {
    // LC_ALL=C: the parsers read tool output in the C locale whatever the host's default is.
    const exec: Exec = (command) => session.exec(`LC_ALL=C; export LC_ALL; ${command}`);
    return result([pass(sshCheckNames.hostKey), pass(sshCheckNames.connect), ...(await runHostChecks(exec, host, { deep: options.deep, fromHere: options.fromHere, source: options.source }))]);
  } finally {
    session.close();
  }
}

/** Every check of one host over an already open connection, in `plannedChecks` order. */
export async function runHostChecks(exec: Exec, host: HostExpectation, checks: HostCheckOptions = {}): Promise<CheckResult[]> {
  const sudo = host.ssh.user !== "root";
  const groups = await Promise.all([checkHost(exec, host), ...host.btrfsVolumes.map((v) => checkBtrfsVolume(exec, v, { sudo }))]);
  // After the others, not beside them: a burst of channels beyond what sshd has released yet is refused.
  const tls = host.tls ? await checkTls(exec, host.tls, { sudo }) : [];
  const firewall = host.firewall ? await checkFirewall(exec, host.firewall, { sudo }) : [];
  const caFile = host.tls?.caFile;
  const sparkPg = host.sparkPg ? await checkSparkPg(exec, host.sparkPg, { sudo, caFile }) : [];
  const kvm = host.kvm ? await checkKvm(exec, host.kvm, { sudo }) : [];
  const deep = host.sparkPg && checks.deep ? await checkSparkPgDeep(exec, host.sparkPg, { sudo, caFile }) : [];
  const redis = host.redis ? await checkRedis(exec, host.redis, { sudo, caFile }) : [];
  const redisDeep = host.redis && checks.deep ? await checkRedisDeep(exec, host.redis, { sudo, caFile }) : [];
  const fromHere = checks.fromHere ? await checkFromOutside(exec, host, { sudo, source: checks.source }) : [];
  return [...groups.flat(), ...tls, ...firewall, ...sparkPg, ...kvm, ...deep, ...redis, ...redisDeep, ...fromHere];
}

export function plannedChecks(host: HostExpectation, checks: HostCheckOptions = {}): PlannedCheck[] {
  return [
    ...plannedHostChecks(host),
    ...host.btrfsVolumes.flatMap(plannedBtrfsVolumeChecks),
    ...(host.tls ? plannedTlsChecks(host.tls) : []),
    ...(host.firewall ? plannedFirewallChecks(host.firewall) : []),
    ...(host.sparkPg ? plannedSparkPgChecks(host.sparkPg) : []),
    ...(host.kvm ? plannedKvmChecks(host.kvm) : []),
    ...(host.sparkPg && checks.deep ? plannedSparkPgDeepChecks(host.sparkPg) : []),
    ...(host.redis ? plannedRedisChecks(host.redis) : []),
    ...(host.redis && checks.deep ? plannedRedisDeepChecks(host.redis) : []),
    ...(checks.fromHere ? plannedOutsideChecks(host) : []),
  ];
}

function notRun(host: HostExpectation, options: VerifyOptions, reason: string): CheckResult[] {
  return plannedChecks(host, { deep: options.deep, fromHere: options.fromHere }).map((check) => skip(check.name, reason));
}

/** `--identity`, else the manifest's `ssh.identityFile`, else the SSH agent. */
function chooseAuth(host: HostExpectation, options: VerifyOptions): SshAuth {
  const keyFile =
    options.identityFile ??
    (host.ssh.identityFile === undefined ? undefined : path.resolve(options.manifestDir ?? process.cwd(), host.ssh.identityFile));
  if (keyFile !== undefined) {
    try {
      return { privateKey: readFileSync(keyFile) };
    } catch (error) {
      throw new Error(`cannot read identity file ${keyFile}: ${(error as Error).message}`);
    }
  }
  const agent = options.agent ?? process.env.SSH_AUTH_SOCK;
  if (agent === undefined || agent === "") {
    throw new Error("no credentials: pass --identity FILE, set ssh.identityFile in the manifest, or run an ssh-agent (SSH_AUTH_SOCK)");
  }
  return { agent };
}

export function sshTargetText(host: HostExpectation): string {
  const address = host.ssh.address.includes(":") ? `[${host.ssh.address}]` : host.ssh.address;
  return `${host.ssh.user}@${address}:${host.ssh.port}`;
}

export function summarize(hosts: HostResult[]): Summary {
  const checks = hosts.flatMap((h) => h.checks);
  const count = (status: CheckResult["status"]) => checks.filter((c) => c.status === status).length;
  return {
    passed: count("pass"),
    failed: count("fail"),
    skipped: count("skip"),
    rootCauses: hosts.reduce((sum, h) => sum + findings(h.checks).length, 0),
    unreachable: hosts.filter((h) => h.unreachable !== undefined).length,
  };
}
