/** KVM guests of one host, as an operator declares them under `hosts[].kvm`. */
export interface KvmConfig {
  /** libvirt domain type: `kvm` where the host has /dev/kvm, `qemu` (TCG emulation) where it has not. */
  domainType: "kvm" | "qemu";
  /** What the guests may take in total; each guest and their sum are checked against it. */
  capacity: KvmCapacityConfig;
  /** Settings written to /etc/libvirt/qemu.conf, as `key = value` (value verbatim); default none. */
  qemuConf?: Record<string, string>;
  /** Name of a btrfs volume of this host... */
  volume: string;
  /** ...and of its subvolume that holds base images and guest disks (clones share its blocks). */
  subvolume: string;
  /** Networks the guests attach to. */
  networks: KvmNetworkConfig[];
  /** Base images the guests are cloned from. */
  images: KvmImageConfig[];
  /** How long a restart waits for a guest to shut down (ACPI) before it is stopped hard; default 30. */
  shutdownSeconds?: number;
  /** How long verify waits for a running guest to reach userspace (its readiness line); default 120. */
  bootSeconds?: number;
  /** The guests; default none. */
  guests?: KvmGuestConfig[];
}

export interface KvmCapacityConfig {
  /** vCPUs the guests may use in total. */
  vcpus: number;
  /** Memory the guests may use in total, e.g. "64G". */
  memory: string;
}

/**
 * `user`: QEMU's own user-mode network, inside the QEMU process (nothing is created on the host).
 * `nat`: a libvirt network with its own bridge, DHCP and NAT. `bridge`: guests join an existing host bridge.
 */
export interface KvmNetworkConfig {
  /** Network name; a libvirt network of this name for `nat` and `bridge`. */
  name: string;
  mode: "user" | "nat" | "bridge";
  /** `nat`: the libvirt bridge's name; `bridge`: the existing host bridge. Required for both. */
  bridge?: string;
  /** `nat`: the host's address on the network, in CIDR form, e.g. "192.168.122.1/24". */
  address?: string;
}

/** A base image: fetched from `url` with a pinned `sha256` or `sha512`, or built on the host (`build`). */
export interface KvmImageConfig {
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

export interface KvmGuestConfig {
  /** Guest name: its libvirt domain, its disk `<subvolume>/guests/NAME.raw`, its hostname. */
  name: string;
  /** Name of a declared image; changing it replaces the guest (a new disk). */
  image: string;
  /** Name of a declared network. */
  network: string;
  vcpus: number;
  /** Memory, e.g. "2G". */
  memory: string;
  /** Disk size the clone is grown to, e.g. "20G"; at least the image's size. */
  diskSize: string;
  /** The guest sees /dev/kvm (host-passthrough CPU); only where the domain type is kvm. Default false. */
  nested?: boolean;
  /** Started when the host boots; default true. */
  autostart?: boolean;
  /** SSH public keys for the guest's default user (cloud-init); default none. */
  sshKeys?: string[];
  /** Extra cloud-config keys merged into the generated user-data; default none. */
  userData?: Record<string, unknown>;
  /** Destroy leaves the domain and its disk in place (retainOnDelete); default false. */
  protect?: boolean;
}
