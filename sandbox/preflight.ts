import { which } from "zx";
import { SandboxError } from "./log";

export function requireRootOnLinux(): void {
  const uid = process.getuid?.();
  if (process.platform !== "linux" || uid !== 0) {
    throw new SandboxError(`needs root on Linux (found: ${process.platform}, uid ${uid ?? "unknown"})`, 2);
  }
}

const TOOLS: Record<string, string> = {
  debootstrap: "debootstrap",
  "systemd-nspawn": "systemd-container",
  losetup: "mount",
  ssh: "openssh-client",
  "ssh-keygen": "openssh-client",
  ip: "iproute2",
  ss: "iproute2",
  nft: "nftables",
  "apt-cacher-ng": "apt-cacher-ng",
};

export async function requireTools(): Promise<void> {
  const missing: string[] = [];
  for (const [tool, pkg] of Object.entries(TOOLS)) {
    if (!(await which(tool, { nothrow: true }))) missing.push(`${tool} (apt-get install ${pkg})`);
  }
  if (missing.length > 0) throw new SandboxError(`missing tools: ${missing.join(", ")}`, 2);
}
