import fs from "node:fs";
import { parseSize } from "../lib/size";
import { sh } from "./sh";

/** `--disk-size`: the project's size grammar (binary units, e.g. 16G = 16 GiB), at least 256M. */
export function parseDiskSize(text: string): number {
  let bytes: number;
  try {
    bytes = parseSize(text);
  } catch (error) {
    throw new Error(`--disk-size: ${(error as Error).message}`);
  }
  if (bytes < 256 * 2 ** 20) throw new Error(`--disk-size: ${text} is below 256M, too small for a btrfs filesystem`);
  return bytes;
}

export function formatBytes(bytes: number): string {
  for (const [unit, size] of [["TiB", 2 ** 40], ["GiB", 2 ** 30], ["MiB", 2 ** 20]] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} B`;
}

/** A fresh sparse image: extending an empty file with ftruncate allocates no blocks. */
export async function attachBlankDisk(image: string, sizeBytes: number): Promise<string> {
  fs.rmSync(image, { force: true });
  const fd = fs.openSync(image, "wx", 0o600);
  try {
    fs.ftruncateSync(fd, sizeBytes);
  } finally {
    fs.closeSync(fd);
  }
  const device = (await sh`losetup --find --show ${image}`).stdout.trim();
  if (!/^\/dev\/loop\d+$/.test(device)) throw new Error(`losetup returned "${device}"`);
  return device;
}

interface LoopInfo {
  name: string;
  "back-file"?: string | null;
}

/** Loop devices whose backing file lies under `dir`, including images already deleted. */
export async function loopDevicesUnder(dir: string): Promise<string[]> {
  const out = await sh`losetup --json --list --output NAME,BACK-FILE`.nothrow();
  if (out.exitCode !== 0 || !out.stdout.trim()) return [];
  const list = (JSON.parse(out.stdout) as { loopdevices: LoopInfo[] }).loopdevices;
  return list
    .filter((l) => (l["back-file"] ?? "").replace(/ \(deleted\)$/, "").startsWith(dir + "/"))
    .map((l) => l.name);
}

export async function detachLoopsUnder(dir: string): Promise<string[]> {
  const devices = await loopDevicesUnder(dir);
  for (const device of devices) await sh`losetup --detach ${device}`.nothrow();
  // The kernel defers the detach while something still holds the device; give it a moment.
  for (let i = 0; i < 50 && (await loopDevicesUnder(dir)).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  const left = await loopDevicesUnder(dir);
  if (left.length > 0) throw new Error(`loop device(s) still attached: ${left.join(", ")}`);
  return devices;
}
