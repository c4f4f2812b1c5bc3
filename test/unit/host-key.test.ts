import { describe, expect, it } from "vitest";
import { compareHostKey, fingerprint, hostKeyBlob } from "../../lib/host-key";

// Generated with ssh-keygen -t ed25519; fingerprints as `ssh-keygen -lf` printed them.
const keyA = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA6wCWrp3CpiIocReXNWQLGDsWvL8WOfX4YKJHHl4B8R a";
const keyB = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID51K5SMxN1VYFbkjoWgPi0UDWkDQEjQKA6gOWkirZlQ b";
const fingerprintA = "SHA256:zg6+2ggX9v4D+Et/l9mL+iFlqkNH5UH4M9IhoT11GoA";
const fingerprintB = "SHA256:Hw1ukRCR4VZEicz+bTISj7ORBrYiEgTm7HxQ2kam6Lw";

/** What ssh2 hands to `hostVerifier`: the raw wire-format key blob. */
const presented = (authorizedKey: string) => Buffer.from(authorizedKey.split(" ")[1] as string, "base64");

describe("host key pinning", () => {
  it("accepts the pinned key", () => {
    expect(compareHostKey(hostKeyBlob(keyA), presented(keyA))).toEqual({ match: true });
  });

  it("refuses another key, naming both fingerprints as OpenSSH prints them", () => {
    expect(compareHostKey(hostKeyBlob(keyA), presented(keyB))).toEqual({
      match: false,
      expected: `ssh-ed25519 ${fingerprintA}`,
      found: `ssh-ed25519 ${fingerprintB}`,
    });
  });

  it("computes the same fingerprint as ssh-keygen -lf", () => {
    expect(fingerprint(hostKeyBlob(keyA))).toBe(fingerprintA);
  });

  it("ignores the comment of the pinned key", () => {
    expect(hostKeyBlob(keyA).equals(hostKeyBlob(keyA.replace(/ a$/, "")))).toBe(true);
  });

  it("rejects a pinned key that is not ed25519", () => {
    expect(() => hostKeyBlob("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDPArPS7aa5c4V")).toThrow(/not an ssh-ed25519 key/);
    expect(() => hostKeyBlob("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQABAAAAgQDPArPS7aa5c4V")).toThrow(/key blob is not ssh-ed25519/);
  });
});
