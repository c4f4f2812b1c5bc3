/**
 * The stack config, as an operator writes it in `Pulumi.<stack>.yaml` under the `sparks:` namespace.
 * `schema.ts` is typed against these interfaces (ajv's JSONSchemaType), so the two cannot drift.
 */

import type { KvmConfig } from "./kvm-types";

/** Top-level config keys of the `sparks` project. */
export interface StackConfig {
  /** Every host the stack deploys. */
  hosts: HostConfig[];
  /**
   * In every command's header; a new value (e.g. the date) makes the next `pulumi up` re-run every
   * command in place, so the idempotent scripts repair drift. Default "".
   */
  converge?: string;
  /**
   * PEM certificate of a CA of the operator's that signs every host's server certificate, with the
   * secret `tlsCaKey`; default each host makes its own CA.
   */
  tlsCaCertificate?: string;
}

export interface HostConfig {
  /** Stable name of the host; used in resource names and the verify report. */
  name: string;
  /** How the deploy reaches the host over SSH. */
  ssh: SshConfig;
  /** Debian packages installed on top of the base set; default none. */
  packages?: string[];
  /** btrfs filesystems on the host's block devices; default none. */
  btrfs?: BtrfsConfig;
  /** Postgres instances run by the host tool spark-pg; default none. */
  sparkPg?: SparkPgConfig;
  /** Redis instances run by the host tool spark-redis; default none. */
  redis?: RedisConfig;
  /** KVM guests (libvirt) and what they need on the host; default none. */
  kvm?: KvmConfig;
  /** The host's own CA and server certificate, which spark-pg and spark-redis serve; default TlsConfig's defaults. */
  tls?: TlsConfig;
  /**
   * An inbound firewall on the host (nftables table `inet sparks`): SSH from `adminNetworks`, each
   * service's port pool from its `clients`, loopback; everything else dropped. Default none.
   */
  firewall?: FirewallConfig;
}

export interface FirewallConfig {
  /** Networks (CIDRs, IPv4 or IPv6) SSH is open to: where the deploy, verify and operators connect from. At least one. */
  adminNetworks: string[];
  /** The port sshd listens on, when the deploy reaches it through another (a port forward); default ssh.port. */
  sshPort?: number;
  /** Seconds new rules wait for the deploy to confirm them over a new SSH connection before the host restores the last confirmed ones; default 60. */
  confirmSeconds?: number;
}

/** Lifetimes of the host's server certificate, in days (components/scripts/host/tls.sh). */
export interface TlsConfig {
  /** How long a new server certificate is valid; default 90. */
  validDays?: number;
  /** Re-issue when fewer days than this are left (on a deploy, or by the daily renew timer); default 30. */
  renewDays?: number;
  /** Verify fails when fewer days than this are left (the renewal has not happened); default 14. */
  verifyDays?: number;
}

/**
 * Either a real host (address, port, user and a pinned host key) or `sandbox: true`: the local
 * sandbox host started by `npm run sandbox -- up`, whose address, port, host key and private key
 * are read from the sandbox's state.
 */
export interface SshConfig {
  /** IP address or DNS name of the host; required unless `sandbox` is true. */
  address?: string;
  /** SSH port; default 22. */
  port?: number;
  /** Login user; root, the only one the host scripts support so far (default). */
  user?: string;
  /** The host's ed25519 public key in authorized_keys form; required unless `sandbox` is true. */
  hostKey?: string;
  /** The host is the throwaway local sandbox host; default false. */
  sandbox?: boolean;
  /**
   * This host's own login key, instead of `sshPrivateKey`; only as a secret
   * (`pulumi config set --secret --path 'hosts[N].ssh.privateKey' < KEYFILE`). Default: sshPrivateKey.
   */
  privateKey?: string;
}

export interface BtrfsConfig {
  volumes: BtrfsVolumeConfig[];
}

export interface BtrfsVolumeConfig {
  /** Stable name of the volume; names its resources and its mount unit. */
  name: string;
  /** Block device, e.g. /dev/nvme1n1 or /dev/disk/by-id/...; must be blank or already this volume. */
  device: string;
  /** Filesystem label; a btrfs with this label on the device is adopted, not reformatted. */
  label: string;
  /** Absolute mount point. */
  mountpoint: string;
  /** Where the volume is mounted now, to move it to `mountpoint` (stops everything on it); default none, and a move is refused. */
  previousMountpoint?: string;
  /** Mount options; default ["noatime"]. */
  mountOptions?: string[];
  /** Keep the filesystem and its subvolumes on destroy (retainOnDelete); default false. */
  protect?: boolean;
  /** Subvolumes directly under the mount point; default none. */
  subvolumes?: SubvolumeConfig[];
}

export interface SubvolumeConfig {
  /** Subvolume name; its path is `<mountpoint>/<name>`. */
  name: string;
  /** Owning user; default root. */
  owner?: string;
  /** Owning group; default root. */
  group?: string;
  /** Octal mode, e.g. "0750" or "1777"; default "0755". */
  mode?: string;
  /** qgroup limit on referenced bytes, e.g. "20G"; enables quotas on the volume; default none. */
  limit?: string;
}

export interface SparkPgConfig {
  /** PostgreSQL major version, Debian's package `postgresql-<version>` (15 on bookworm). */
  version: 15;
  /** Name of a btrfs volume of this host. */
  volume: string;
  /** A declared subvolume of that volume; each instance is a subvolume nested under it. */
  subvolume: string;
  /** The one IP address every instance listens on. */
  listen: string;
  /**
   * Networks whose clients may connect (CIDRs of listen's family, e.g. "10.20.0.0/16"), over TLS
   * only; the host's own address always may. Default none: the host itself only.
   */
  clients?: string[];
  /** Port pool the instances' ports are taken from, both ends included. */
  ports: PortRange;
  /**
   * What each fork may write of its own, e.g. "20G" (a btrfs exclusive limit on the fork, so no fork
   * can fill the volume under its source); needs quotas on, i.e. a `limit` on the subvolume. Default none.
   */
  forkLimit?: string;
  /** Instances that must exist, in creation order; default none. */
  instances?: SparkPgInstanceConfig[];
}

export interface PortRange {
  from: number;
  to: number;
}

export interface SparkPgInstanceConfig {
  /** Instance name: its role, unit `spark-pg@NAME.service` and subvolume `<root>/NAME`. */
  name: string;
  /** Created as a fork of this instance, which must be declared before it; default a new, empty instance. */
  forkOf?: string;
  /** Destroy leaves the instance in place (retainOnDelete); default false. */
  protect?: boolean;
}

export interface RedisConfig {
  /** Name of a btrfs volume of this host. */
  volume: string;
  /** A declared subvolume of that volume (traversable by the redis user); each instance is a subvolume nested under it. */
  subvolume: string;
  /** The one IP address every instance listens on. */
  listen: string;
  /**
   * Networks whose clients may connect (CIDRs of listen's family, e.g. "10.20.0.0/16"), over TLS
   * only; the host's own address always may. Default none: the host itself only.
   */
  clients?: string[];
  /** Port pool the instances' ports are taken from, both ends included. */
  ports: PortRange;
  /**
   * What each fork may write of its own, e.g. "20G" (a btrfs exclusive limit on the fork, so no fork
   * can fill the volume under its source); needs quotas on, i.e. a `limit` on the subvolume. Default none.
   */
  forkLimit?: string;
  /** How every instance persists; AOF is always on (forks rely on it). Default appendfsync everysec, Redis' save points. */
  persistence?: RedisPersistenceConfig;
  /** `maxmemory` of each instance, e.g. "256M"; default no limit. */
  maxmemory?: string;
  /** `maxmemory-policy`; default "noeviction". */
  maxmemoryPolicy?: "noeviction" | "allkeys-lru" | "allkeys-lfu" | "allkeys-random" | "volatile-lru" | "volatile-lfu" | "volatile-random" | "volatile-ttl";
  /** Instances that must exist, in creation order; default none. */
  instances?: RedisInstanceConfig[];
}

export interface RedisPersistenceConfig {
  /** AOF fsync policy; default "everysec". Every policy keeps the fork guarantee. */
  appendfsync?: "always" | "everysec" | "no";
  /** RDB save points (save after `seconds` if at least `changes` writes); [] for none; default Redis' 3600/1, 300/100, 60/10000. */
  save?: RedisSavePoint[];
}

export interface RedisSavePoint {
  seconds: number;
  changes: number;
}

export interface RedisInstanceConfig {
  /** Instance name: its ACL user, unit `spark-redis@NAME.service` and subvolume `<root>/NAME`. */
  name: string;
  /** Created as a fork of this instance, which must be declared before it; default a new, empty instance. */
  forkOf?: string;
  /** Destroy leaves the instance in place (retainOnDelete); default false. */
  protect?: boolean;
}
