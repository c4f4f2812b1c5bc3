import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  loadManifestFile,
  loadStackManifest,
  ManifestError,
  ManifestNotFoundError,
  stackManifestPath,
  validateManifest,
} from "../../verify/load-manifest";
import type { VerifyManifest } from "../../verify/manifest";

const manifest = (): VerifyManifest => ({
  version: 1,
  project: "sparks-infra",
  stack: "dev",
  hosts: [
    {
      name: "spark-1",
      ssh: {
        address: "10.0.0.1",
        port: 22,
        user: "root",
        hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA6wCWrp3CpiIocReXNWQLGDsWvL8WOfX4YKJHHl4B8R",
      },
      packages: ["btrfs-progs"],
      btrfsVolumes: [
        {
          name: "data",
          device: "/dev/disk/by-id/nvme-eui.0025",
          label: "sparkdata",
          mountpoint: "/srv/data",
          mountUnit: "srv-data.mount",
          mountOptions: ["noatime", "compress=zstd:3"],
          quotas: true,
          subvolumes: [
            { name: "pg", path: "/srv/data/pg", owner: "postgres", group: "postgres", mode: "700", limitBytes: 10737418240 },
            { name: "cache", path: "/srv/data/cache", owner: "root", group: "root", mode: "755", limitBytes: null },
          ],
        },
      ],
    },
  ],
});

function problems(raw: unknown): Array<{ path: string; message: string }> {
  try {
    validateManifest(raw, "m.json");
  } catch (error) {
    if (error instanceof ManifestError) return error.problems;
    throw error;
  }
  return [];
}

describe("validateManifest", () => {
  it("accepts a well-formed manifest", () => {
    expect(validateManifest(manifest(), "m.json")).toEqual(manifest());
  });

  it("accepts the host's TLS expectation and the services' client networks, and names what is wrong in them", () => {
    const tls = { caFile: "/etc/sparks/tls/ca.crt", certFile: "/etc/sparks/tls/current/server.crt", addresses: ["10.0.0.5"], verifyDays: 14 };
    const sparkPg = { version: 15, listen: "10.0.0.5", clients: ["10.20.0.0/16"], instances: [{ name: "main" }] };
    const good = { ...manifest(), hosts: [{ ...manifest().hosts[0], tls, sparkPg }] };
    expect(problems(good)).toEqual([]);
    const bad = { ...manifest(), hosts: [{ ...manifest().hosts[0], tls: { ...tls, addresses: [], verifyDays: -1 }, sparkPg: { ...sparkPg, clients: ["10.20.0.0"] } }] };
    expect(problems(bad).map((p) => p.path).sort()).toEqual(["hosts[0].sparkPg.clients[0]", "hosts[0].tls.addresses", "hosts[0].tls.verifyDays"]);
    const { clients: _clients, ...withoutClients } = sparkPg;
    expect(problems({ ...manifest(), hosts: [{ ...manifest().hosts[0], sparkPg: withoutClients }] })).toEqual([{ path: "hosts[0].sparkPg.clients", message: "is required" }]);
  });

  it("rejects a bad value, naming its path in the manifest", () => {
    const m = manifest() as unknown as { hosts: Array<{ btrfsVolumes: Array<{ subvolumes: Array<{ mode: string }> }> }> };
    m.hosts[0]!.btrfsVolumes[0]!.subvolumes[1]!.mode = "rwxr-xr-x";
    expect(problems(m)).toEqual([{ path: "hosts[0].btrfsVolumes[0].subvolumes[1].mode", message: "must match ^[0-7]{3,4}$" }]);
  });

  it("names a missing key and an unknown key", () => {
    const m = manifest() as unknown as { hosts: Array<{ ssh: Record<string, unknown> }> };
    delete m.hosts[0]!.ssh.hostKey;
    m.hosts[0]!.ssh.password = "hunter2";
    expect(problems(m)).toEqual(
      expect.arrayContaining([
        { path: "hosts[0].ssh.hostKey", message: "is required" },
        { path: "hosts[0].ssh.password", message: "unknown key" },
      ]),
    );
  });

  it("rejects another format version and a pinned key that is not ed25519", () => {
    expect(problems({ ...manifest(), version: 2 })).toEqual([{ path: "version", message: "must be equal to constant" }]);
    const m = manifest();
    m.hosts[0]!.ssh.hostKey = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDPArPS7aa5c4V";
    expect(problems(m).map((p) => p.path)).toEqual(["hosts[0].ssh.hostKey"]);
  });

  it("rejects a limit on a volume without quotas, and duplicate names", () => {
    const m = manifest();
    m.hosts[0]!.btrfsVolumes[0]!.quotas = false;
    m.hosts.push({ ...m.hosts[0]!, btrfsVolumes: [] });
    expect(problems(m)).toEqual([
      { path: "hosts[1].name", message: 'duplicate host name "spark-1"' },
      { path: "hosts[0].btrfsVolumes[0].subvolumes[0].limitBytes", message: "a limit needs quotas: true on its volume" },
    ]);
  });

  it("says which file was bad", () => {
    expect(() => validateManifest({}, "/tmp/m.json")).toThrow(/^invalid verify manifest \/tmp\/m\.json \(4 problems\)/);
  });
});

describe("loading a manifest", () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));
  const tempDir = () => (dir = mkdtempSync(path.join(tmpdir(), "verify-manifest-")));

  it("reads a file, and reports one that is not JSON by its path", () => {
    const root = tempDir();
    writeFileSync(path.join(root, "good.json"), JSON.stringify(manifest()));
    writeFileSync(path.join(root, "bad.json"), "{ hosts: [");
    expect(loadManifestFile(path.join(root, "good.json")).stack).toBe("dev");
    expect(() => loadManifestFile(path.join(root, "bad.json"))).toThrow(ManifestError);
    expect(() => loadManifestFile(path.join(root, "none.json"))).toThrow(ManifestNotFoundError);
  });

  it("finds a stack's manifest where the apply step writes it", () => {
    const root = tempDir();
    const file = stackManifestPath("sandbox", root);
    expect(file).toBe(path.join(root, ".sparks", "sandbox", "verify-manifest.json"));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(manifest()));
    expect(loadStackManifest("sandbox", root)).toEqual({ file, manifest: manifest() });
  });

  it("tells how to produce a stack's manifest when there is none", () => {
    const root = tempDir();
    expect(() => loadStackManifest("dev", root)).toThrow(
      "no manifest for stack dev: run npm run apply -- --stack dev, or pass --manifest " +
        "(e.g. from `pulumi stack output --json verifyManifest`)",
    );
    expect(() => loadStackManifest("../etc", root)).toThrow(/invalid stack name/);
  });
});
