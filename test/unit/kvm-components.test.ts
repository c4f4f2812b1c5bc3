import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { HOST_KEY, mockPulumiRuntime, settle, type Registered } from "./support";

let mods: {
  Host: typeof import("../../components/host").Host;
  BtrfsVolume: typeof import("../../components/btrfs-volume").BtrfsVolume;
  KvmHost: typeof import("../../components/kvm-host").KvmHost;
  KvmGuest: typeof import("../../components/kvm-guest").KvmGuest;
};

const registered = mockPulumiRuntime(async () => {
  mods = {
    Host: (await import("../../components/host")).Host,
    BtrfsVolume: (await import("../../components/btrfs-volume")).BtrfsVolume,
    KvmHost: (await import("../../components/kvm-host")).KvmHost,
    KvmGuest: (await import("../../components/kvm-guest")).KvmGuest,
  };
});

/** One host with a KVM setup and one guest named g, edited by `edit`; returns the guest's domain command. */
async function guestCommand(prefix: string, edit: (guest: any) => void = () => {}): Promise<Registered> {
  const { Host, BtrfsVolume, KvmHost, KvmGuest } = mods;
  const host = new Host(prefix, { address: "203.0.113.10", hostKey: HOST_KEY, privateKey: pulumi.secret("KEY") });
  const volume = new BtrfsVolume(`${prefix}-data`, { host, device: "/dev/vdb", label: "l", mountpoint: "/srv/sparks", subvolumes: [{ name: "images" }] });
  const kvm = new KvmHost(`${prefix}-kvm`, {
    host,
    volume,
    subvolume: "images",
    networks: [{ name: "inside", mode: "user" }],
    images: [
      { name: "tiny", build: "debian-direct-kernel" },
      { name: "debian-12", url: "https://example.org/d.raw", sha256: "b".repeat(64) },
    ],
  });
  const guest: any = { host, kvm, domainType: "qemu", image: "tiny", network: "inside", vcpus: 1, memory: "256M", diskSize: "1G" };
  edit(guest);
  new KvmGuest(`${prefix}-kvm-guest-g`, "g", guest);
  await settle(100);
  return registered.find((r) => r.name === `${prefix}-kvm-guest-g-domain`) as Registered;
}

describe("KvmGuest: in place or replace", () => {
  it("replaces the guest only when its image changes", async () => {
    const base = await guestCommand("a");
    const moreMemory = await guestCommand("b", (g) => (g.memory = "512M"));
    const moreCpus = await guestCommand("c", (g) => (g.vcpus = 2));
    const noAutostart = await guestCommand("d", (g) => (g.autostart = false));
    const otherImage = await guestCommand("e", (g) => (g.image = "debian-12"));
    // triggers are what the command provider replaces on; every other input is an in-place update.
    expect(moreMemory.inputs.triggers).toEqual(base.inputs.triggers);
    expect(moreCpus.inputs.triggers).toEqual(base.inputs.triggers);
    expect(noAutostart.inputs.triggers).toEqual(base.inputs.triggers);
    expect(otherImage.inputs.triggers).not.toEqual(base.inputs.triggers);
    expect(moreMemory.inputs.create).not.toEqual(base.inputs.create);
    expect(moreMemory.inputs.create).toContain("MEMORY_KIB=524288");
  });

  it("names the image in the replace trigger and carries the domain XML and seed as files", async () => {
    const command = await guestCommand("f");
    expect(command.inputs.triggers).toEqual([expect.stringMatching(/^tiny-[0-9a-f]{12}$/)]);
    expect(command.inputs.create).toContain("<domain type='qemu'>");
    expect(command.inputs.create).toContain("instance-id: g-tiny-");
    expect(command.inputs.delete).toContain("kvm/guest.delete.sh");
  });

  it("registers no host network command for a user-mode network", async () => {
    await guestCommand("h");
    expect(registered.filter((r) => r.name.startsWith("h-kvm-network"))).toEqual([]);
    expect(registered.map((r) => r.name)).toEqual(expect.arrayContaining(["h-kvm-packages", "h-kvm-qemu-conf", "h-kvm-image-tiny", "h-kvm-image-debian-12"]));
  });

  it("gives guests the default shutdown time when the host shuts down, and lets autostart alone decide the boot", async () => {
    await guestCommand("i");
    const script = registered.find((r) => r.name === "i-kvm-libvirt-guests")?.inputs.create as string;
    expect(script).toContain("CONF=/etc/default/libvirt-guests");
    expect(script).toContain("SETTINGS=(ON_BOOT=ignore ON_SHUTDOWN=shutdown SHUTDOWN_TIMEOUT=30)");
    expect(script).toContain("RESTART_UNIT=''");
  });
});
