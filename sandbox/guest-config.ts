import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { symlinkInRoot, writeInRoot } from "./root-files";

export const HOSTNAME = "sparks-sandbox";

/**
 * The container shares the machine's network namespace with every capability, so units that
 * listen on the network or reconfigure it (networkd, timesyncd) must not start; apt's timers would
 * also race the deploy for the dpkg lock, and no getty has a terminal to serve.
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
    "# Written by sparks sandbox up; regenerated on every up (and by reboot when the port changes).",
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

/** Also used alone by reboot, when the previous port was taken while the container was down. */
export function writeSshdConfig(root: string, ssh: { address: string; port: number }): void {
  writeInRoot(root, "etc/ssh/sshd_config", sshdConfig(ssh.address, ssh.port));
}

export function configureGuest(root: string, ssh: { address: string; port: number }): void {
  writeInRoot(root, "etc/hostname", `${HOSTNAME}\n`);
  writeInRoot(
    root,
    "etc/hosts",
    `127.0.0.1\tlocalhost\n127.0.1.1\t${HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n`,
  );
  // Each sandbox is a distinct host to systemd and journald; the image's id is shared by all.
  writeInRoot(root, "etc/machine-id", `${randomBytes(16).toString("hex")}\n`, 0o444);
  writeInRoot(root, "etc/resolv.conf", fs.readFileSync("/etc/resolv.conf", "utf8"));
  writeSshdConfig(root, ssh);
  for (const unit of MASKED_UNITS) symlinkInRoot(root, `etc/systemd/system/${unit}`, "/dev/null");
}
