import { parseSize } from "../lib/size";
import type { KvmConfig } from "./kvm-types";
import type { HostConfig } from "./types";
import type { ConfigError, DeepPartial } from "./validate";

const list = <T>(value: T[] | undefined): T[] => (Array.isArray(value) ? value : []);

const bytes = (size: unknown): number | undefined => {
  if (typeof size !== "string") return undefined;
  try {
    return parseSize(size);
  } catch {
    return undefined;
  }
};

/** The rules of `hosts[].kvm` that span fields: names that must resolve, and what the host can hold. */
export function kvmErrors(host: DeepPartial<HostConfig> | undefined, at: string): ConfigError[] {
  const kvm = host?.kvm as DeepPartial<KvmConfig> | undefined;
  if (kvm == null || typeof kvm !== "object") return [];
  const errors: ConfigError[] = [];
  const error = (path: string, message: string) => errors.push({ path, message });
  const duplicates = (names: unknown[], path: (i: number) => string, what: string) =>
    names.forEach((name, i) => {
      if (typeof name === "string" && names.indexOf(name) !== i) error(path(i), `duplicate ${what} "${name}"`);
    });

  const volume = list(host?.btrfs?.volumes).find((v) => v?.name === kvm.volume);
  if (typeof kvm.volume === "string" && volume === undefined) error(`${at}.volume`, `names no btrfs volume of this host ("${kvm.volume}")`);
  if (volume !== undefined && typeof kvm.subvolume === "string" && !list(volume.subvolumes).some((s) => s?.name === kvm.subvolume)) {
    error(`${at}.subvolume`, `names no subvolume of volume "${volume.name}" ("${kvm.subvolume}")`);
  }

  const networks = list(kvm.networks);
  duplicates(networks.map((n) => n?.name), (i) => `${at}.networks[${i}].name`, "network name");
  networks.forEach((network, i) => {
    const path = `${at}.networks[${i}]`;
    if (network?.mode === "user") {
      if (network.bridge != null) error(`${path}.bridge`, "must not be set for mode user: that network stays inside QEMU");
      if (network.address != null) error(`${path}.address`, "must not be set for mode user: QEMU picks its own addresses");
    }
    if ((network?.mode === "nat" || network?.mode === "bridge") && network.bridge == null) error(`${path}.bridge`, `is required for mode ${network.mode}`);
    if (network?.mode === "nat" && network.address == null) error(`${path}.address`, "is required for mode nat: the host's address on the network, e.g. 192.168.122.1/24");
    if (network?.mode === "bridge" && network.address != null) error(`${path}.address`, "must not be set for mode bridge: the host bridge has its own");
  });

  const images = list(kvm.images);
  duplicates(images.map((m) => m?.name), (i) => `${at}.images[${i}].name`, "image name");
  images.forEach((image, i) => {
    const path = `${at}.images[${i}]`;
    if (image?.url != null && image.build != null) error(path, "declares both url and build: choose one source");
    if (image?.url == null && image?.build == null) error(path, "declares no source: give url and sha256 (or sha512), or build");
    if (image?.url != null && image.sha256 == null && image.sha512 == null) error(`${path}.sha256`, "is required with url (or sha512): the image is checked against it");
    if (image?.sha256 != null && image.sha512 != null) error(path, "declares both sha256 and sha512: pin one");
    for (const algo of ["sha256", "sha512"] as const) {
      if (image?.url == null && image?.[algo] != null) error(`${path}.${algo}`, "only applies to an image with url");
    }
    if (image?.build == null && image?.size != null) error(`${path}.size`, "only applies to a built image");
  });

  const guests = list(kvm.guests);
  duplicates(guests.map((g) => g?.name), (i) => `${at}.guests[${i}].name`, "guest name");
  const capacityCpus = kvm.capacity?.vcpus;
  const capacityMemory = bytes(kvm.capacity?.memory);
  guests.forEach((guest, i) => {
    const path = `${at}.guests[${i}]`;
    const image = images.find((m) => m?.name === guest?.image);
    if (typeof guest?.image === "string" && image === undefined) error(`${path}.image`, `names no image of this host ("${guest.image}")`);
    if (typeof guest?.network === "string" && !networks.some((n) => n?.name === guest.network)) {
      error(`${path}.network`, `names no network of this host ("${guest.network}")`);
    }
    if (typeof guest?.vcpus === "number" && typeof capacityCpus === "number" && guest.vcpus > capacityCpus) {
      error(`${path}.vcpus`, `${guest.vcpus} is more than the host's capacity (kvm.capacity.vcpus: ${capacityCpus})`);
    }
    const memory = bytes(guest?.memory);
    if (memory !== undefined && capacityMemory !== undefined && memory > capacityMemory) {
      error(`${path}.memory`, `${guest?.memory} is more than the host's capacity (kvm.capacity.memory: ${kvm.capacity?.memory})`);
    }
    if (memory !== undefined && memory < 64 * 1024 ** 2) error(`${path}.memory`, "must be at least 64M");
    const disk = bytes(guest?.diskSize);
    const imageSize = bytes(image?.build != null ? (image.size ?? "64M") : undefined);
    if (disk !== undefined && imageSize !== undefined && disk < imageSize) {
      error(`${path}.diskSize`, `${guest?.diskSize} is smaller than image "${image?.name}" (${image?.size ?? "64M"}): a disk is never shrunk`);
    }
    if (guest?.protect === true && volume !== undefined && volume.protect !== true) {
      error(`${path}.protect`, `needs volume "${volume.name}" protected too: destroying the volume would take the guest's disk with it`);
    }
  });
  const totalCpus = guests.reduce((sum, g) => sum + (typeof g?.vcpus === "number" ? g.vcpus : 0), 0);
  const totalMemory = guests.reduce((sum, g) => sum + (bytes(g?.memory) ?? 0), 0);
  if (typeof capacityCpus === "number" && totalCpus > capacityCpus) {
    error(`${at}.guests`, `ask for ${totalCpus} vCPUs in total, more than the host's capacity (kvm.capacity.vcpus: ${capacityCpus})`);
  }
  if (capacityMemory !== undefined && totalMemory > capacityMemory) {
    error(`${at}.guests`, `ask for ${totalMemory} bytes of memory in total, more than the host's capacity (kvm.capacity.memory: ${kvm.capacity?.memory})`);
  }
  return errors;
}
