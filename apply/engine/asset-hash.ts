import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { listFiles } from "./providers";
import { ARCHIVE_SIG, ASSET_SIG, SIG_KEY } from "./values";

/**
 * The engine stores an asset or archive with the hash of its content, so a content change is an
 * input change even when the path stays (sdk/go/common/resource/asset.go EnsureHash). Adds `hash`
 * to every file asset and directory archive in `value`.
 */
export function withContentHashes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withContentHashes);
  if (value === null || typeof value !== "object") return value;
  const wire = value as Record<string, unknown>;
  if ((wire[SIG_KEY] === ASSET_SIG || wire[SIG_KEY] === ARCHIVE_SIG) && typeof wire.path === "string" && wire.hash === undefined) {
    return { ...wire, hash: contentHash(wire.path) };
  }
  return Object.fromEntries(Object.entries(wire).map(([key, inner]) => [key, withContentHashes(inner)]));
}

function contentHash(file: string): string {
  const hash = createHash("sha256");
  if (statSync(file).isDirectory()) {
    for (const relative of listFiles(file)) hash.update(`${relative}\0`).update(readFileSync(path.join(file, relative))).update("\0");
  } else {
    hash.update(readFileSync(file));
  }
  return hash.digest("hex");
}
