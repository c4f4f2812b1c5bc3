import type { KvmGuestArgs } from "../components/kvm-guest";
import type { KvmImageArgs, KvmNetworkArgs } from "../components/kvm-host";

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
  /** How long a restart, or the host's own shutdown, waits for a guest to shut down (ACPI) before it is stopped hard; default 30. */
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

/** Networks, images and guests are declared with the same fields the components take. */
export type KvmNetworkConfig = KvmNetworkArgs;
export type KvmImageConfig = KvmImageArgs;

export interface KvmGuestConfig extends Omit<KvmGuestArgs, "host" | "kvm" | "domainType"> {
  /** Guest name: its libvirt domain, its directory `<subvolume>/guests/NAME`, its hostname. */
  name: string;
}
