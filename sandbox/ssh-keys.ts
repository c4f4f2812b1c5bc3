import fs from "node:fs";
import { removeInRoot, inRoot, writeInRoot } from "./root-files";
import { sh } from "./sh";

/** "ssh-ed25519 AAAA...": the authorized_keys form without the comment, as @pulumi/command pins it. */
export function publicKeyOf(pubFileText: string): string {
  const [type, blob] = pubFileText.trim().split(/\s+/);
  if (!type || !blob) throw new Error("malformed public key");
  return `${type} ${blob}`;
}

export async function newClientKey(keyPath: string): Promise<string> {
  fs.rmSync(keyPath, { force: true });
  fs.rmSync(`${keyPath}.pub`, { force: true });
  await sh`ssh-keygen -q -t ed25519 -N ${""} -C sparks-sandbox -f ${keyPath}`;
  fs.chmodSync(keyPath, 0o600);
  return publicKeyOf(fs.readFileSync(`${keyPath}.pub`, "utf8"));
}

export function authorizeClientKey(root: string, clientKey: string): void {
  fs.mkdirSync(inRoot(root, "root/.ssh"), { recursive: true, mode: 0o700 });
  fs.chmodSync(inRoot(root, "root/.ssh"), 0o700);
  writeInRoot(root, "root/.ssh/authorized_keys", `${clientKey} sparks-sandbox\n`, 0o600);
}

/** The image's keys came from its build and are shared by every sandbox: replace them with one fresh ed25519 key. */
export async function newHostKey(root: string): Promise<string> {
  const sshDir = inRoot(root, "etc/ssh");
  for (const name of fs.readdirSync(sshDir)) {
    if (name.startsWith("ssh_host_")) removeInRoot(root, `etc/ssh/${name}`);
  }
  const keyPath = `${sshDir}/ssh_host_ed25519_key`;
  await sh`ssh-keygen -q -t ed25519 -N ${""} -C ${""} -f ${keyPath}`;
  fs.chmodSync(keyPath, 0o600);
  return publicKeyOf(fs.readFileSync(`${keyPath}.pub`, "utf8"));
}

/** OpenSSH looks a port-22 host up by its bare name, any other port as [host]:port. */
export function knownHostsLine(address: string, port: number, hostKey: string): string {
  return `${port === 22 ? address : `[${address}]:${port}`} ${hostKey}\n`;
}

export function writeKnownHosts(file: string, address: string, port: number, hostKey: string): void {
  fs.writeFileSync(file, knownHostsLine(address, port, hostKey), { mode: 0o600 });
}
