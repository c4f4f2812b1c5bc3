import { describe, expect, it } from "vitest";
import { stackConfigErrors } from "../../stacks/validate";

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGalMW02EhxsccJwMhKX2F6Avhwvj4VM0HeEsoKqxwY0";

function stack(edit: (kvm: any, host: any) => void = () => {}): unknown {
  const host: any = {
    name: "dev-1",
    ssh: { address: "203.0.113.10", hostKey: HOST_KEY },
    btrfs: { volumes: [{ name: "data", device: "/dev/vdb", label: "sparks-data", mountpoint: "/srv/sparks", subvolumes: [{ name: "images" }] }] },
    kvm: {
      domainType: "qemu",
      capacity: { vcpus: 4, memory: "4G" },
      qemuConf: { cgroup_controllers: "[ ]" },
      volume: "data",
      subvolume: "images",
      networks: [{ name: "inside", mode: "user" }, { name: "nat", mode: "nat", bridge: "virbr1", address: "192.168.122.1/24" }],
      images: [
        { name: "tiny", build: "debian-direct-kernel", size: "64M" },
        { name: "debian-12", url: "https://example.org/debian.raw", sha256: "a".repeat(64) },
      ],
      guests: [
        { name: "g1", image: "tiny", network: "inside", vcpus: 2, memory: "1G", diskSize: "1G", nested: true },
        { name: "g2", image: "debian-12", network: "nat", vcpus: 2, memory: "2G", diskSize: "20G" },
      ],
    },
  };
  edit(host.kvm, host);
  return { hosts: [host] };
}

const errorsOf = (edit: (kvm: any, host: any) => void) => stackConfigErrors(stack(edit)).map((e) => `${e.path}: ${e.message}`);

describe("kvm config validation", () => {
  it("accepts a host with user and nat networks, a built and a fetched image, two guests", () => {
    expect(stackConfigErrors(stack())).toEqual([]);
  });

  it("refuses a guest asking for more vCPUs than the host has, naming the field", () => {
    expect(errorsOf((kvm) => (kvm.guests[0].vcpus = 8))).toEqual(
      expect.arrayContaining(["hosts[0].kvm.guests[0].vcpus: 8 is more than the host's capacity (kvm.capacity.vcpus: 4)"]),
    );
  });

  it("refuses guests whose memory together is more than the host has", () => {
    const errors = errorsOf((kvm) => (kvm.guests[1].memory = "3584M"));
    expect(errors).toEqual([expect.stringMatching(/^hosts\[0\]\.kvm\.guests: ask for \d+ bytes of memory in total, more than the host's capacity/)]);
  });

  it("refuses one guest with more memory than the host has", () => {
    expect(errorsOf((kvm) => (kvm.guests[0].memory = "8G"))).toContain(
      "hosts[0].kvm.guests[0].memory: 8G is more than the host's capacity (kvm.capacity.memory: 4G)",
    );
  });

  it("refuses an unknown image", () => {
    expect(errorsOf((kvm) => (kvm.guests[0].image = "ubuntu"))).toEqual(['hosts[0].kvm.guests[0].image: names no image of this host ("ubuntu")']);
  });

  it("refuses a duplicate guest name", () => {
    expect(errorsOf((kvm) => (kvm.guests[1].name = "g1"))).toEqual(['hosts[0].kvm.guests[1].name: duplicate guest name "g1"']);
  });

  it("refuses a missing network", () => {
    expect(errorsOf((kvm) => (kvm.guests[1].network = "lan"))).toEqual(['hosts[0].kvm.guests[1].network: names no network of this host ("lan")']);
  });

  it("refuses an image with a url but no checksum, and one with no source", () => {
    expect(
      errorsOf((kvm) => {
        delete kvm.images[1].sha256;
        kvm.images.push({ name: "empty" });
      }),
    ).toEqual([
      "hosts[0].kvm.images[1].sha256: is required with url (or sha512): the image is checked against it",
      "hosts[0].kvm.images[2]: declares no source: give url and sha256 (or sha512), or build",
    ]);
  });

  it("takes a sha512 pin instead of sha256, but not both, and neither without a url", () => {
    expect(
      errorsOf((kvm) => {
        delete kvm.images[1].sha256;
        kvm.images[1].sha512 = "c".repeat(128);
      }),
    ).toEqual([]);
    expect(errorsOf((kvm) => (kvm.images[1].sha512 = "c".repeat(128)))).toEqual(["hosts[0].kvm.images[1]: declares both sha256 and sha512: pin one"]);
    expect(errorsOf((kvm) => (kvm.images[0].sha512 = "c".repeat(128)))).toEqual(["hosts[0].kvm.images[0].sha512: only applies to an image with url"]);
    expect(
      errorsOf((kvm) => {
        delete kvm.images[1].sha256;
        kvm.images[1].sha512 = "c".repeat(127);
      }),
    ).toEqual(["hosts[0].kvm.images[1].sha512: must match ^[0-9a-f]{128}$"]);
  });

  it("refuses a nat network without its bridge and address, and a user network with a bridge", () => {
    expect(
      errorsOf((kvm) => {
        kvm.networks[0].bridge = "br0";
        delete kvm.networks[1].bridge;
        delete kvm.networks[1].address;
      }),
    ).toEqual([
      "hosts[0].kvm.networks[0].bridge: must not be set for mode user: that network stays inside QEMU",
      "hosts[0].kvm.networks[1].bridge: is required for mode nat",
      "hosts[0].kvm.networks[1].address: is required for mode nat: the host's address on the network, e.g. 192.168.122.1/24",
    ]);
  });

  it("refuses an images subvolume the volume does not declare", () => {
    expect(errorsOf((kvm) => (kvm.subvolume = "vm"))).toEqual(['hosts[0].kvm.subvolume: names no subvolume of volume "data" ("vm")']);
  });

  it("refuses a disk smaller than its built image, and an unknown domain type", () => {
    const errors = errorsOf((kvm) => {
      kvm.guests[0].diskSize = "32M";
      kvm.domainType = "xen";
    });
    expect(errors).toContain('hosts[0].kvm.guests[0].diskSize: 32M is smaller than image "tiny" (64M): a disk is never shrunk');
    expect(errors.some((e) => e.startsWith("hosts[0].kvm.domainType: "))).toBe(true);
  });
});
