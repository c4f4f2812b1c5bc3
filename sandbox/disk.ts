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
  return losetupAttach(image);
}

/** The loop device already backed by `image` (a reboot keeps it), else a newly attached one. */
export async function attachDisk(image: string): Promise<string> {
  if (!fs.existsSync(image)) throw new Error(`disk image ${image} is gone`);
  const [attached] = loopsBackedBy(await listLoops(), image);
  return attached ?? losetupAttach(image);
}

async function losetupAttach(image: string): Promise<string> {
  const device = (await sh`losetup --find --show ${image}`).stdout.trim();
  if (!/^\/dev\/loop\d+$/.test(device)) throw new Error(`losetup returned "${device}"`);
  return device;
}

export interface LoopDevice {
  name: string;
  /** The backing file as losetup names it; " (deleted)" is cut off and reported in `deleted`. */
  backFile: string;
  deleted: boolean;
}

/** `losetup --json --list --output NAME,BACK-FILE`. */
export function parseLoopList(json: string): LoopDevice[] {
  if (!json.trim()) return [];
  const list = (JSON.parse(json) as { loopdevices?: { name: string; "back-file"?: string | null }[] }).loopdevices ?? [];
  return list.map((l) => {
    const raw = l["back-file"] ?? "";
    const deleted = raw.endsWith(" (deleted)");
    return { name: l.name, backFile: deleted ? raw.slice(0, -" (deleted)".length) : raw, deleted };
  });
}

/** Devices still backed by the file at `image`: one whose image was deleted (and maybe re-created) is not. */
export function loopsBackedBy(loops: LoopDevice[], image: string): string[] {
  return loops.filter((l) => l.backFile === image && !l.deleted).map((l) => l.name);
}

async function listLoops(): Promise<LoopDevice[]> {
  const out = await sh`losetup --json --list --output NAME,BACK-FILE`.nothrow();
  return out.exitCode === 0 ? parseLoopList(out.stdout) : [];
}

/** Loop devices whose backing file lies under `dir`, including images already deleted. */
export async function loopDevicesUnder(dir: string): Promise<string[]> {
  return (await listLoops()).filter((l) => l.backFile.startsWith(dir + "/")).map((l) => l.name);
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
