import fs from "node:fs";
import { sh } from "./sh";

export interface MountEntry {
  mountPoint: string;
  fsType: string;
  source: string;
  superOptions: string;
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));

export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const mountPoint = left.split(" ")[4];
    const [fsType, source, superOptions] = right.split(" ");
    if (!mountPoint || !fsType) continue;
    entries.push({
      mountPoint: unescape(mountPoint),
      fsType,
      source: unescape(source ?? ""),
      superOptions: unescape(superOptions ?? ""),
    });
  }
  return entries;
}

export function readMounts(file = "/proc/self/mountinfo"): MountEntry[] {
  return parseMountinfo(fs.readFileSync(file, "utf8"));
}

export function mountsUnder(dir: string): MountEntry[] {
  return readMounts().filter((m) => m.mountPoint.startsWith(dir + "/"));
}

/** Overlay mounts anywhere on the machine whose lower layer is `lower`. */
export function overlaysUsing(lower: string): MountEntry[] {
  return readMounts().filter(
    (m) => m.fsType === "overlay" && m.superOptions.split(",").some((o) => o === `lowerdir=${lower}` || (o.startsWith("lowerdir=") && o.slice(9).split(":").includes(lower))),
  );
}

/** The overlay mounted at `target`, if one is. */
export function overlayAt(target: string, mounts: MountEntry[] = readMounts()): MountEntry | undefined {
  return mounts.find((m) => m.mountPoint === target && m.fsType === "overlay");
}

export async function mountOverlay(lower: string, upper: string, work: string, target: string): Promise<void> {
  for (const dir of [upper, work, target]) fs.mkdirSync(dir, { recursive: true });
  await sh`mount -t overlay overlay -o ${`lowerdir=${lower},upperdir=${upper},workdir=${work}`} ${target}`;
}

/** Deepest first, repeated because mounts can be stacked on one mount point. */
export async function unmountUnder(dir: string): Promise<string[]> {
  const done: string[] = [];
  for (let round = 0; round < 10; round++) {
    const mounts = mountsUnder(dir).sort((a, b) => b.mountPoint.length - a.mountPoint.length);
    if (mounts.length === 0) break;
    for (const m of mounts) {
      const r = await sh`umount ${m.mountPoint}`.nothrow();
      if (r.exitCode !== 0) await sh`umount -l ${m.mountPoint}`.nothrow();
      done.push(m.mountPoint);
    }
  }
  const left = mountsUnder(dir);
  if (left.length > 0) throw new Error(`could not unmount: ${left.map((m) => m.mountPoint).join(", ")}`);
  return done;
}
