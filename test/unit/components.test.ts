import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, any>;
}

const registered: Registered[] = [];

let Host: typeof import("../../components/host").Host;
let BtrfsVolume: typeof import("../../components/btrfs-volume").BtrfsVolume;

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: () => ({}),
    },
    "sparks",
    "unit",
    false,
  );
  ({ Host } = await import("../../components/host"));
  ({ BtrfsVolume } = await import("../../components/btrfs-volume"));
});

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGalMW02EhxsccJwMhKX2F6Avhwvj4VM0HeEsoKqxwY0";

function newHost(name: string) {
  return new Host(name, { address: "203.0.113.10", hostKey: HOST_KEY, privateKey: pulumi.secret("KEY"), packages: ["htop"] });
}

const resolve = <T>(output: pulumi.Output<T>) => new Promise<T>((ok) => output.apply(ok));
const settle = () => new Promise((ok) => setTimeout(ok, 50));
const named = (prefix: string) => registered.filter((r) => r.name.startsWith(prefix));

describe("Host", () => {
  it("registers wait-for-ssh and base packages under its own name, with one pinned connection", async () => {
    const host = newHost("h1");
    await resolve(host.urn);
    await settle();
    expect(named("h1").map((r) => `${r.type} ${r.name}`)).toEqual([
      "sparks:host:Host h1",
      "command:remote:Command h1-wait-for-ssh",
      "command:remote:Command h1-base-packages",
    ]);
    // The private key makes the whole connection a secret, as the engine stores it.
    const connection = named("h1-wait-for-ssh")[0].inputs.connection;
    expect(connection["4dabf18193072939515e22adb298388d"]).toBeDefined();
    expect(connection.value).toMatchObject({ host: "203.0.113.10", port: 22, user: "root", hostKey: HOST_KEY, privateKey: "KEY" });
    expect(named("h1-base-packages")[0].inputs.create).toContain("PACKAGES=(btrfs-progs util-linux procps htop)");
    expect(host.packages).toEqual(["btrfs-progs", "util-linux", "procps", "htop"]);
  });

  it("keeps the private key secret", async () => {
    const host = newHost("h2");
    expect(await pulumi.isSecret(pulumi.output(host.connection.privateKey))).toBe(true);
  });
});

describe("BtrfsVolume", () => {
  it("names its commands after itself and nests under the host", async () => {
    const host = newHost("h3");
    const volume = new BtrfsVolume("h3-data", { host, device: "/dev/vdb", label: "l", mountpoint: "/srv/x", subvolumes: [{ name: "a" }] }, { parent: host });
    const urn = await resolve(volume.urn);
    await settle();
    expect(urn).toContain("sparks:host:Host$sparks:storage:BtrfsVolume::h3-data");
    expect(named("h3-data-").map((r) => r.name)).toEqual(["h3-data-format", "h3-data-mount", "h3-data-subvolume-a"]);
  });

  it("turns quotas on only when a subvolume declares a limit", async () => {
    const host = newHost("h4");
    const limited = new BtrfsVolume("h4-lim", { host, device: "/dev/vdb", label: "l", mountpoint: "/srv/l", subvolumes: [{ name: "a", limit: "2G" }] });
    const plain = new BtrfsVolume("h4-plain", { host, device: "/dev/vdc", label: "p", mountpoint: "/srv/p", subvolumes: [{ name: "a" }] });
    await Promise.all([resolve(limited.urn), resolve(plain.urn)]);
    await settle();
    expect(named("h4-lim-quota")).toHaveLength(1);
    expect(named("h4-plain-quota")).toHaveLength(0);
    expect(limited.expected.quotas).toBe(true);
    expect(plain.expected.quotas).toBe(false);
  });

  it("describes for verify exactly what it deploys, with defaults applied", () => {
    const host = newHost("h5");
    const volume = new BtrfsVolume("h5-data", {
      host,
      device: "/dev/vdb",
      label: "sparks-data",
      mountpoint: "/srv/sparks",
      subvolumes: [{ name: "pg", mode: "0750", owner: "postgres", limit: "2G" }, { name: "tmp", mode: "1777" }, { name: "plain" }],
    });
    expect(volume.expected).toEqual({
      name: "h5-data",
      device: "/dev/vdb",
      label: "sparks-data",
      mountpoint: "/srv/sparks",
      mountUnit: "srv-sparks.mount",
      mountOptions: ["noatime"],
      quotas: true,
      subvolumes: [
        { name: "pg", path: "/srv/sparks/pg", owner: "postgres", group: "root", mode: "750", limitBytes: 2 * 1024 ** 3 },
        { name: "tmp", path: "/srv/sparks/tmp", owner: "root", group: "root", mode: "1777", limitBytes: null },
        { name: "plain", path: "/srv/sparks/plain", owner: "root", group: "root", mode: "755", limitBytes: null },
      ],
    });
  });

  it("hands the same values to its scripts as to verify", async () => {
    const host = newHost("h6");
    const volume = new BtrfsVolume("h6-data", { host, device: "/dev/vdb", label: "l", mountpoint: "/srv/d", subvolumes: [{ name: "pg", mode: "0750", limit: "1M" }] });
    await resolve(volume.urn);
    await settle();
    const create = named("h6-data-subvolume-pg")[0].inputs.create as string;
    expect(create).toContain("MODE=750\n");
    expect(create).toContain("LIMIT_BYTES=1048576\n");
    expect(create).toContain("MOUNTPOINT=/srv/d\n");
  });
});
