import { SparksComponent } from "./component";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parseSize } from "../lib/size";
import type { BtrfsVolume } from "./btrfs-volume";
import type { Host } from "./host";
import { hostCommand } from "./host-command";
import { SCRIPTS_DIR } from "./host-script";
import type { KvmSettingExpectation } from "../verify/manifest";

/** How long a guest gets for an ACPI shutdown, on a restart or when the host shuts down. */
export const DEFAULT_SHUTDOWN_SECONDS = 30;

/** The init of the built direct-kernel-boot image. */
export const GUEST_INIT = path.join(__dirname, "kvm", "guest-init.sh");

/**
 * `user`: QEMU's own user-mode network, inside the QEMU process (nothing is created on the host).
 * `nat`: a libvirt network with its own bridge, DHCP and NAT. `bridge`: guests join an existing host bridge.
 */
export interface KvmNetworkArgs {
  /** Network name; a libvirt network of this name for `nat` and `bridge`. */
  name: string;
  mode: "user" | "nat" | "bridge";
  /** `nat`: the libvirt bridge's name; `bridge`: the existing host bridge. Required for both. */
  bridge?: string;
  /** `nat`: the host's address on the network, in CIDR form, e.g. "192.168.122.1/24". */
  address?: string;
}

/** A base image: fetched from `url` with a pinned `sha256` or `sha512`, or built on the host (`build`). */
export interface KvmImageArgs {
  /** Image name, as guests refer to it. */
  name: string;
  /** URL of a raw disk image that boots on its own (a cloud image with cloud-init). */
  url?: string;
  /** Its sha256, hex; a mismatch is an error and leaves nothing behind. This or `sha512` with `url`. */
  sha256?: string;
  /** Its sha512, hex, as Debian's SHA512SUMS beside its cloud images list it. This or `sha256` with `url`. */
  sha512?: string;
  /**
   * `debian-direct-kernel`: built on the host from Debian packages (the cloud kernel and busybox),
   * booted by direct kernel boot; for hosts that cannot reach image mirrors. Cached by its inputs.
   */
  build?: "debian-direct-kernel";
  /** Size of the built base disk; default "64M" (build only). */
  size?: string;
}

export interface KvmHostArgs {
  host: Host;
  /** The btrfs volume holding images and guest disks. */
  volume: BtrfsVolume;
  /** Subvolume of `volume` for them: clones share blocks with their base only on one filesystem. */
  subvolume: string;
  /** Settings for /etc/libvirt/qemu.conf (`key = value`, value verbatim); default none. */
  qemuConf?: Record<string, string>;
  /** How long a guest gets to shut down (ACPI) when the host does; default 30. */
  shutdownSeconds?: number;
  networks: KvmNetworkArgs[];
  images: KvmImageArgs[];
}

/** Where a base image lives on the host and how guests boot it. */
export interface KvmImage {
  name: string;
  /** Directory with disk.raw (and vmlinuz, initrd.img for direct kernel boot) and a `complete` marker. */
  dir: string;
  /** Name and content key: changes when the image's content would. */
  id: string;
  directKernel: boolean;
  ready: pulumi.Resource;
}

/**
 * What KVM guests need on a host: libvirt and QEMU (libvirtd enabled, so autostart guests come back
 * after a reboot), qemu.conf settings, the libvirt networks, and the base images on a btrfs subvolume.
 */
export class KvmHost extends SparksComponent {
  static readonly TYPE = "sparks:kvm:KvmHost";

  /** Images and guest disks: `<root>/base/<image>-<key>`, `<root>/guests/<guest>`. */
  readonly root: string;
  readonly images: Record<string, KvmImage> = {};
  readonly networks: Record<string, KvmNetworkArgs & { ready?: pulumi.Resource }> = {};
  /** Completes once libvirtd runs with its settings. */
  readonly ready: pulumi.Resource;
  /** What verify checks of the settings written into libvirt's files. */
  readonly expectedSettings: KvmSettingExpectation[] = [];
  /** How long a guest gets for an ACPI shutdown, on a restart or when the host shuts down. */
  readonly shutdownSeconds: number;

  constructor(name: string, args: KvmHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super(KvmHost.TYPE, name, opts);
    const rootReady = args.volume.subvolumeReady[args.subvolume];
    if (rootReady === undefined) throw new Error(`${name}: volume ${args.volume.expected.name} declares no subvolume "${args.subvolume}"`);
    this.root = `${args.volume.expected.mountpoint}/${args.subvolume}`;
    this.shutdownSeconds = args.shutdownSeconds ?? DEFAULT_SHUTDOWN_SECONDS;
    const packages = this.createPackages(name, args);
    this.ready = this.createQemuConf(name, args, packages);
    this.createGuestsShutdown(name, args, packages);
    for (const network of args.networks) {
      this.networks[network.name] = { ...network, ready: network.mode === "user" ? undefined : this.createNetwork(name, args, network) };
    }
    for (const image of args.images) this.images[image.name] = this.createImage(name, args, image, [packages, rootReady]);
    this.registerOutputs({});
  }

  private createPackages(name: string, args: KvmHostArgs) {
    return hostCommand(
      `${name}-packages`,
      { host: args.host, create: { script: "kvm/packages.sh", params: {} } },
      { parent: this, dependsOn: [args.host.ready] },
    );
  }

  private createQemuConf(name: string, args: KvmHostArgs, packages: pulumi.Resource) {
    const file = { path: "/etc/libvirt/qemu.conf", mode: "0600", label: "kvm qemuConf", assign: " = ", restartUnit: "libvirtd.service" };
    return this.createManagedSettings(`${name}-qemu-conf`, args, file, Object.entries(args.qemuConf ?? {}), packages);
  }

  /**
   * What libvirt-guests does when the host shuts down and boots: each guest gets the same ACPI
   * shutdown time as a restart (Debian's default waits 300 s for a guest that ignores ACPI, holding
   * the host's reboot), and at boot the declared autostart alone decides which guests start.
   */
  private createGuestsShutdown(name: string, args: KvmHostArgs, packages: pulumi.Resource) {
    // Read by libvirt-guests when it runs: no restart.
    const file = { path: "/etc/default/libvirt-guests", mode: "0644", label: "kvm host shutdown", assign: "=", restartUnit: "" };
    // libvirt-guests reads 0 as "wait forever".
    const timeout = String(Math.max(1, this.shutdownSeconds));
    return this.createManagedSettings(`${name}-libvirt-guests`, args, file, [["ON_BOOT", "ignore"], ["ON_SHUTDOWN", "shutdown"], ["SHUTDOWN_TIMEOUT", timeout]], packages);
  }

  /** Writes `entries` as a managed block at the end of a libvirt file, and records them for verify. */
  private createManagedSettings(
    commandName: string,
    args: KvmHostArgs,
    file: { path: string; mode: string; label: string; assign: string; restartUnit: string },
    entries: [string, string][],
    packages: pulumi.Resource,
  ) {
    this.expectedSettings.push(...entries.map(([key, value]) => ({ file: file.path, key, value })));
    const params = {
      CONF: file.path,
      MODE: file.mode,
      LABEL: file.label,
      SETTINGS: entries.map(([key, value]) => `${key}${file.assign}${value}`),
      RESTART_UNIT: file.restartUnit,
    };
    return hostCommand(commandName, { host: args.host, create: { script: "kvm/managed-settings.sh", params } }, { parent: this, dependsOn: [packages] });
  }

  private createNetwork(name: string, args: KvmHostArgs, network: KvmNetworkArgs) {
    return hostCommand(
      `${name}-network-${network.name}`,
      {
        host: args.host,
        create: { script: "kvm/network.sh", params: { NAME: network.name, NETWORK_XML: renderNetworkXml(network) } },
        delete: { script: "kvm/network.delete.sh", params: { NAME: network.name } },
      },
      { parent: this, dependsOn: [this.ready] },
    );
  }

  private createImage(name: string, args: KvmHostArgs, image: KvmImageArgs, dependsOn: pulumi.Resource[]): KvmImage {
    const baseDir = `${this.root}/base`;
    const host = args.host;
    if (image.build !== undefined) {
      const init = readFileSync(GUEST_INIT, "utf8");
      const sizeBytes = parseSize(image.size ?? "64M");
      const key = contentKey(readFileSync(path.join(SCRIPTS_DIR, "kvm/image-build.sh"), "utf8"), init, String(sizeBytes));
      const ready = hostCommand(
        `${name}-image-${image.name}`,
        {
          host,
          create: {
            script: "kvm/image-build.sh",
            params: { NAME: image.name, KEY: key, BASE_DIR: baseDir, SIZE_BYTES: sizeBytes },
            files: [{ content: init }],
          },
        },
        { parent: this, dependsOn },
      );
      return { name: image.name, dir: `${baseDir}/${image.name}-${key}`, id: `${image.name}-${key}`, directKernel: true, ready };
    }
    const [algo, digest] = image.sha512 !== undefined ? ["sha512", image.sha512] : ["sha256", image.sha256 as string];
    const ready = hostCommand(
      `${name}-image-${image.name}`,
      { host, create: { script: "kvm/image-fetch.sh", params: { NAME: image.name, URL: image.url as string, ALGO: algo, DIGEST: digest, BASE_DIR: baseDir } } },
      { parent: this, dependsOn },
    );
    const key = digest.slice(0, 12);
    return { name: image.name, dir: `${baseDir}/${image.name}-${key}`, id: `${image.name}-${key}`, directKernel: false, ready };
  }
}

/** 12 hex digits of the sha256 of the parts: the cache key of a built image. */
export function contentKey(...parts: string[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(`${part.length}:${part}`);
  return hash.digest("hex").slice(0, 12);
}

/** The libvirt network XML of a `nat` or `bridge` network. */
export function renderNetworkXml(network: KvmNetworkArgs): string {
  if (network.mode === "bridge") {
    return [`<network>`, `  <name>${network.name}</name>`, `  <forward mode='bridge'/>`, `  <bridge name='${network.bridge}'/>`, `</network>`].join("\n");
  }
  const [address, prefix] = (network.address as string).split("/");
  const parts = address.split(".").map(Number);
  const size = 2 ** (32 - Number(prefix));
  const base = ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0 & ~(size - 1) >>> 0;
  const ip = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join(".");
  return [
    `<network>`,
    `  <name>${network.name}</name>`,
    `  <forward mode='nat'/>`,
    `  <bridge name='${network.bridge}' stp='on' delay='0'/>`,
    `  <ip address='${address}' prefix='${prefix}'>`,
    `    <dhcp>`,
    `      <range start='${ip(base + Math.floor(size / 2))}' end='${ip(base + size - 2)}'/>`,
    `    </dhcp>`,
    `  </ip>`,
    `</network>`,
  ].join("\n");
}
