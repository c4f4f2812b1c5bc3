import { SparksComponent } from "./component";
import * as pulumi from "@pulumi/pulumi";
import { parseSize } from "../lib/size";
import type { KvmGuestExpectation } from "../verify/manifest";
import type { Host } from "./host";
import { hostCommand } from "./host-command";
import { type DomainNetwork, renderDomainXml } from "./kvm/domain-xml";
import { renderSeed } from "./kvm/seed";
import type { KvmHost } from "./kvm-host";

/** Kernel command line of a direct-kernel-boot guest: the serial console carries its readiness line. */
export const DIRECT_KERNEL_CMDLINE = "console=ttyS0 quiet panic=-1";

export interface KvmGuestArgs {
  host: Host;
  kvm: KvmHost;
  /** libvirt domain type: `kvm`, or `qemu` (TCG) where the host has no /dev/kvm. */
  domainType: "kvm" | "qemu";
  /** Name of an image of `kvm`; a change replaces the guest (a new disk). */
  image: string;
  /** Name of a network of `kvm`. */
  network: string;
  vcpus: number;
  /** Memory, e.g. "2G". */
  memory: string;
  /** The clone is grown to this size, e.g. "20G"; at least the image's size; never shrunk. */
  diskSize: string;
  /** The guest sees /dev/kvm (host-passthrough CPU; only with domain type kvm); default false. */
  nested?: boolean;
  /** Started at host boot; default true. */
  autostart?: boolean;
  /** SSH public keys for the guest's default user (cloud-init); default none. */
  sshKeys?: string[];
  /** Extra cloud-config keys merged into the generated user-data; default none. */
  userData?: Record<string, unknown>;
  /** Destroy leaves the domain and its disk (retainOnDelete); default false. */
  protect?: boolean;
}

/**
 * One libvirt guest: a copy-on-write clone of its base image, a NoCloud seed, its domain. One
 * command: changes to memory, vCPUs, network or nested are applied to the existing domain (same
 * UUID, same disk) with a restart, autostart and a larger disk live; only a new image replaces it.
 */
export class KvmGuest extends SparksComponent {
  static readonly TYPE = "sparks:kvm:KvmGuest";

  readonly expected: KvmGuestExpectation;

  constructor(name: string, guestName: string, args: KvmGuestArgs, opts?: pulumi.ComponentResourceOptions) {
    super(KvmGuest.TYPE, name, opts);
    const image = args.kvm.images[args.image];
    if (image === undefined) throw new Error(`${name}: no image "${args.image}" on this host`);
    const network = args.kvm.networks[args.network];
    if (network === undefined) throw new Error(`${name}: no network "${args.network}" on this host`);
    const guestDir = `${args.kvm.root}/guests/${guestName}`;
    const memoryKiB = parseSize(args.memory) / 1024;
    const instanceId = `${guestName}-${image.id}`;
    const autostart = args.autostart ?? true;
    const nested = args.nested ?? false;
    const consoleLog = `${guestDir}/console.log`;
    this.expected = { name: guestName, vcpus: args.vcpus, memoryKiB, autostart, nested, consoleLog, instanceId };

    const domainXml = renderDomainXml({
      name: guestName,
      domainType: args.domainType,
      vcpus: args.vcpus,
      memoryKiB,
      nested,
      diskPath: `${guestDir}/disk.raw`,
      seedPath: `${guestDir}/seed.iso`,
      consoleLog,
      directKernel: image.directKernel
        ? { kernel: `${guestDir}/vmlinuz`, initrd: `${guestDir}/initrd.img`, cmdline: DIRECT_KERNEL_CMDLINE }
        : undefined,
      network: domainNetwork(network),
    });
    const seed = renderSeed({ hostname: guestName, instanceId, sshKeys: args.sshKeys ?? [], extra: args.userData });
    hostCommand(
      `${name}-domain`,
      {
        host: args.host,
        create: {
          script: "kvm/guest.sh",
          params: {
            NAME: guestName,
            IMAGE_ID: image.id,
            BASE_DIR: image.dir,
            DIRECT_KERNEL: image.directKernel ? "yes" : "no",
            GUEST_DIR: guestDir,
            DISK_BYTES: parseSize(args.diskSize),
            VCPUS: args.vcpus,
            MEMORY_KIB: memoryKiB,
            AUTOSTART: autostart,
            SHUTDOWN_SECONDS: args.kvm.shutdownSeconds,
            ON_CHANGE: "image: replaces the guest; memory, vcpus, network, nested: restart; autostart, larger disk: live",
          },
          // The domain XML rides as a file, so a diff shows its change line by line.
          files: [{ content: seed.metaData }, { content: seed.userData }, { content: domainXml }],
        },
        delete: { script: "kvm/guest.delete.sh", params: { NAME: guestName, GUEST_DIR: guestDir } },
        replaceOn: [image.id],
      },
      { parent: this, dependsOn: [args.kvm.ready, image.ready, ...(network.ready ? [network.ready] : [])], protect: args.protect ?? false, retainOnDelete: args.protect ?? false },
    );
    this.registerOutputs({});
  }
}

function domainNetwork(network: { name: string; mode: "user" | "nat" | "bridge"; bridge?: string }): DomainNetwork {
  if (network.mode === "user") return { mode: "user" };
  if (network.mode === "nat") return { mode: "nat", network: network.name };
  return { mode: "bridge", bridge: network.bridge as string };
}
