import { randomBytes } from "node:crypto";
import { guestAptProxyConf, mirrorPrefix } from "./apt-proxy";
import type { SandboxNetwork } from "./network-plan";
import { symlinkInRoot, writeInRoot } from "./root-files";

export const HOSTNAME = "sparks-sandbox";

/**
 * The container's eth0 is configured from the machine (`ip -n`) before it boots, so networkd must
 * not touch it; nothing past the veth is reachable, so resolved and timesyncd have nothing to reach;
 * apt's timers would race the deploy for the dpkg lock, and no getty has a terminal to serve.
 */
export const MASKED_UNITS = [
  "ssh.socket",
  "systemd-networkd.service",
  "systemd-networkd.socket",
  "systemd-networkd-wait-online.service",
  "systemd-resolved.service",
  "systemd-timesyncd.service",
  "apt-daily.timer",
  "apt-daily-upgrade.timer",
  "console-getty.service",
  "container-getty@.service",
  "getty@.service",
];

export function sshdConfig(address: string, port: number): string {
  // Settings come before the Include: sshd keeps the first value it reads, so drop-ins cannot widen them.
  return [
    "# Written by sparks sandbox up; regenerated on every up.",
    `ListenAddress ${address}:${port}`,
    "AddressFamily inet",
    "HostKey /etc/ssh/ssh_host_ed25519_key",
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    // bench:fleet verifies this one host as 20 at once: 20 handshakes in flight that a fleet would
    // spread over 20 sshds. The default (10:30:100) drops some of them at random.
    "MaxStartups 40:30:100",
    "UsePAM yes",
    "PrintMotd no",
    "AcceptEnv LANG LC_*",
    "Subsystem sftp /usr/lib/openssh/sftp-server",
    "Include /etc/ssh/sshd_config.d/*.conf",
    "",
  ].join("\n");
}

export const SSH_PORT = 22;

/**
 * apt reaches the machine's mirror through the sandbox's proxy only. The sources are written as
 * http (the proxy fetches from the mirror by its own scheme), so the proxy sees, and checks, each URL.
 */
function configureApt(root: string, network: SandboxNetwork, archive: { mirror: string; suite: string }): void {
  writeInRoot(root, "etc/apt/apt.conf.d/01sparks-proxy", guestAptProxyConf(network.machineAddress));
  writeInRoot(root, "etc/apt/sources.list", `deb http://${mirrorPrefix(archive.mirror)} ${archive.suite} main\n`);
}

/** `archive` is what the root was bootstrapped from. */
export function configureGuest(root: string, network: SandboxNetwork, archive: { mirror: string; suite: string }): void {
  writeInRoot(root, "etc/hostname", `${HOSTNAME}\n`);
  writeInRoot(
    root,
    "etc/hosts",
    `127.0.0.1\tlocalhost\n127.0.1.1\t${HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
  );
  // Each sandbox is a distinct host to systemd and journald; the image's id is shared by all.
  writeInRoot(root, "etc/machine-id", `${randomBytes(16).toString("hex")}\n`, 0o444);
  // No name server is reachable from the namespace: apt names hosts only to the proxy, which resolves them.
  writeInRoot(root, "etc/resolv.conf", "# none: the sandbox reaches nothing but its veth\n");
  writeInRoot(root, "etc/ssh/sshd_config", sshdConfig(network.containerAddress, SSH_PORT));
  configureApt(root, network, archive);
  for (const unit of MASKED_UNITS) symlinkInRoot(root, `etc/systemd/system/${unit}`, "/dev/null");
}
