/** What verify checks for the KVM guests of one host (part of the verify manifest). */
export interface KvmExpectation {
  /** The libvirt domain type the guests run with; `qemu` (TCG) hosts cannot offer nested KVM. */
  domainType: "kvm" | "qemu";
  /** How long a running guest may take to print its readiness line before "reached userspace" fails. */
  bootSeconds: number;
  /** Settings the deploy writes into libvirt's files (qemu.conf, /etc/default/libvirt-guests). */
  settings: KvmSettingExpectation[];
  guests: KvmGuestExpectation[];
}

export interface KvmGuestExpectation {
  name: string;
  vcpus: number;
  memoryKiB: number;
  autostart: boolean;
  /** The guest must see /dev/kvm; skipped, with the reason, where the host has none. */
  nested: boolean;
  /** The serial console log on the host, where the guest prints its readiness line. */
  consoleLog: string;
  /** The instance-id of its NoCloud seed, which the readiness line must carry. */
  instanceId: string;
}

export interface KvmSettingExpectation {
  file: string;
  key: string;
  /** As written after `=`, e.g. "[ ]" or "30". */
  value: string;
}
