import { SparksComponent } from "./component";
import * as pulumi from "@pulumi/pulumi";
import type { BtrfsVolumeExpectation, SubvolumeExpectation } from "../verify/manifest";
import type { Host } from "./host";
import { hostCommand } from "./host-command";
import { mountUnitName } from "../lib/systemd";
import { parseSize } from "../lib/size";

export interface SubvolumeArgs {
  /** Subvolume name; its path is `<mountpoint>/<name>`. */
  name: string;
  /** Owning user; default root. */
  owner?: string;
  /** Owning group; default root. */
  group?: string;
  /** Octal mode such as "0750" or "1777"; default "0755". */
  mode?: string;
  /** qgroup limit on referenced bytes, e.g. "20G"; default none. A limit turns quotas on. */
  limit?: string;
}

export interface BtrfsVolumeArgs {
  /** The host that carries the device. */
  host: Host;
  /** Block device; formatted only when blank, adopted when it already holds btrfs labelled `label`. */
  device: string;
  /** Filesystem label. */
  label: string;
  /** Absolute mount point. */
  mountpoint: string;
  /**
   * The mount point the volume leaves, when `mountpoint` changes: moving a volume stops everything
   * on it, so the mount refuses a move unless this names where it is mounted now. Default none.
   */
  previousMountpoint?: string;
  /** Mount options; default ["noatime"]. */
  mountOptions?: string[];
  /** Keep the filesystem and its subvolumes when the stack is destroyed; default false. */
  protect?: boolean;
  /** Subvolumes directly under the mount point; default none. */
  subvolumes?: SubvolumeArgs[];
}

/**
 * A btrfs filesystem on one block device, mounted persistently, with its subvolumes, their
 * ownership and their qgroup limits.
 */
export class BtrfsVolume extends SparksComponent {
  static readonly TYPE = "sparks:storage:BtrfsVolume";

  /** What verify checks for this volume. */
  readonly expected: BtrfsVolumeExpectation;
  /** Per subvolume name, the command after which it exists with its owner, mode and limit: what its users depend on. */
  readonly subvolumeReady: Record<string, pulumi.Resource> = {};

  constructor(name: string, args: BtrfsVolumeArgs, opts?: pulumi.ComponentResourceOptions) {
    super(BtrfsVolume.TYPE, name, opts);
    const { host, device, label, mountpoint } = args;
    const mountOptions = args.mountOptions ?? ["noatime"];
    const subvolumes = (args.subvolumes ?? []).map(subvolumeExpectation(mountpoint));
    const quotas = subvolumes.some((s) => s.limitBytes !== null);
    const mountUnit = mountUnitName(mountpoint);
    this.expected = { name, device, label, mountpoint, mountUnit, mountOptions, quotas, subvolumes };


    const childOpts = (dependsOn: pulumi.Resource[]): pulumi.CustomResourceOptions => ({
      parent: this,
      dependsOn,
      // protect: the engine refuses to delete or replace these (pulumi destroy fails, naming them);
      // retainOnDelete: should the engine delete them anyway (after `pulumi state unprotect`), the data stays.
      protect: args.protect ?? false,
      retainOnDelete: args.protect ?? false,
    });

    // A changed device or label re-runs format in place: the new device is formatted only if
    // blank, and the old one is never wiped, because a renamed path may be the same disk.
    const format = hostCommand(
      `${name}-format`,
      {
        host,
        create: { script: "btrfs-volume/format.sh", params: { DEVICE: device, LABEL: label } },
        delete: { script: "btrfs-volume/format.delete.sh", params: { DEVICE: device, LABEL: label } },
      },
      childOpts([host.ready]),
    );
    const mountParams = { VOLUME: name, DEVICE: device, LABEL: label, MOUNTPOINT: mountpoint, MOUNT_UNIT: mountUnit };
    const mount = hostCommand(
      `${name}-mount`,
      {
        host,
        create: { script: "btrfs-volume/mount.sh", params: { ...mountParams, OPTIONS: mountOptions, PREVIOUS_MOUNTPOINT: args.previousMountpoint ?? "" } },
        delete: { script: "btrfs-volume/mount.delete.sh", params: mountParams },
      },
      childOpts([format]),
    );
    // Quota and subvolume scripts act only on this filesystem; a changed device re-runs them in place.
    const volumeParams = { DEVICE: device, LABEL: label, MOUNTPOINT: mountpoint };
    const quota = quotas
      ? hostCommand(
          `${name}-quota`,
          {
            host,
            create: { script: "btrfs-volume/quota.sh", params: volumeParams },
            delete: { script: "btrfs-volume/quota.delete.sh", params: volumeParams },
          },
          childOpts([mount]),
        )
      : undefined;
    for (const subvolume of subvolumes) {
      const params = { ...volumeParams, NAME: subvolume.name };
      this.subvolumeReady[subvolume.name] = hostCommand(
        `${name}-subvolume-${subvolume.name}`,
        {
          host,
          create: {
            script: "btrfs-volume/subvolume.sh",
            params: {
              ...params,
              OWNER: subvolume.owner,
              GROUP: subvolume.group,
              MODE: subvolume.mode,
              LIMIT_BYTES: subvolume.limitBytes === null ? "" : String(subvolume.limitBytes),
            },
          },
          delete: { script: "btrfs-volume/subvolume.delete.sh", params },
        },
        childOpts(quota ? [quota] : [mount]),
      );
    }
    this.registerOutputs({});
  }
}

function subvolumeExpectation(mountpoint: string) {
  return (subvolume: SubvolumeArgs): SubvolumeExpectation => ({
    name: subvolume.name,
    path: `${mountpoint}/${subvolume.name}`,
    owner: subvolume.owner ?? "root",
    group: subvolume.group ?? "root",
    // As `stat -c %a` prints it: "0750" -> "750", "1777" stays.
    mode: parseInt(subvolume.mode ?? "0755", 8).toString(8),
    limitBytes: subvolume.limit === undefined ? null : parseSize(subvolume.limit),
  });
}
