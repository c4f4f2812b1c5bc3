import fs from "node:fs";
import path from "node:path";

/**
 * Paths inside the container root, resolved so an absolute symlink in the image
 * (e.g. /etc/resolv.conf -> /run/...) can never make us write to the machine's own file.
 */
export function inRoot(root: string, rel: string): string {
  const target = path.join(root, rel);
  const parent = fs.realpathSync(path.dirname(target));
  if (parent !== root && !parent.startsWith(root + "/")) {
    throw new Error(`${rel} resolves outside the container root (${parent})`);
  }
  return path.join(parent, path.basename(target));
}

export function writeInRoot(root: string, rel: string, content: string, mode = 0o644): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  const file = inRoot(root, rel);
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, content, { mode });
  fs.chmodSync(file, mode);
}

export function removeInRoot(root: string, rel: string): void {
  fs.rmSync(inRoot(root, rel), { force: true });
}

export function symlinkInRoot(root: string, rel: string, to: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  const file = inRoot(root, rel);
  fs.rmSync(file, { force: true });
  fs.symlinkSync(to, file);
}
