import { createHash } from "node:crypto";

const ED25519 = "ssh-ed25519";

/**
 * The key blob of a pinned key in authorized_keys form (`ssh-ed25519 BASE64 [comment]`): the same
 * bytes ssh2 hands to `hostVerifier`.
 */
export function hostKeyBlob(authorizedKey: string): Buffer {
  const [type, base64] = authorizedKey.trim().split(/\s+/);
  if (type !== ED25519 || base64 === undefined) {
    throw new Error(`not an ${ED25519} key in authorized_keys form: ${authorizedKey}`);
  }
  const blob = Buffer.from(base64, "base64");
  if (blobKeyType(blob) !== ED25519) throw new Error(`key blob is not ${ED25519}: ${authorizedKey}`);
  return blob;
}

/** `SHA256:...` as `ssh-keygen -lf` and the OpenSSH client print it. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

export type HostKeyVerdict =
  | { match: true }
  | { match: false; expected: string; found: string };

export function compareHostKey(pinned: Buffer, presented: Buffer): HostKeyVerdict {
  if (pinned.equals(presented)) return { match: true };
  const type = blobKeyType(presented);
  return {
    match: false,
    expected: `${ED25519} ${fingerprint(pinned)}`,
    found: `${type ?? "unknown key type"} ${fingerprint(presented)}`,
  };
}

/** The SSH wire-format blob starts with a length-prefixed key type name. */
function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length > 64 || blob.length < 4 + length) return undefined;
  return blob.subarray(4, 4 + length).toString("latin1");
}
