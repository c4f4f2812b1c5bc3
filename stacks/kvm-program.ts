import type { BtrfsVolume } from "../components/btrfs-volume";
import type { Host } from "../components/host";
import { KvmGuest } from "../components/kvm-guest";
import { KvmHost } from "../components/kvm-host";
import type { KvmExpectation } from "../verify/manifest";
import type { KvmConfig } from "./kvm-types";

/** Enough for a cloud image's first boot with cloud-init under KVM; TCG hosts may want more. */
const DEFAULT_BOOT_SECONDS = 120;

/** The KVM part of one host: libvirt, networks and images, then each guest. */
export function deployKvm(hostName: string, host: Host, volumes: Record<string, BtrfsVolume>, kvm: KvmConfig): KvmExpectation {
  const kvmHost = new KvmHost(
    `${hostName}-kvm`,
    // Validation made sure the volume is declared on this host.
    { host, volume: volumes[kvm.volume], subvolume: kvm.subvolume, qemuConf: kvm.qemuConf, shutdownSeconds: kvm.shutdownSeconds, networks: kvm.networks, images: kvm.images },
    { parent: host },
  );
  const guests = (kvm.guests ?? []).map(
    (guest) =>
      new KvmGuest(`${hostName}-kvm-guest-${guest.name}`, guest.name, { host, kvm: kvmHost, domainType: kvm.domainType, ...guest }, { parent: kvmHost }),
  );
  return { domainType: kvm.domainType, bootSeconds: kvm.bootSeconds ?? DEFAULT_BOOT_SECONDS, settings: kvmHost.expectedSettings, guests: guests.map((g) => g.expected) };
}
