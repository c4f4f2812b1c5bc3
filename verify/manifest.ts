import type { KvmExpectation } from "./kvm-manifest";

export type { KvmExpectation, KvmGuestExpectation, KvmSettingExpectation } from "./kvm-manifest";

/**
 * The verify manifest: what must be true on each host after a deploy. It is the contract between
 * deploy and verify: the program exports it as the stack output `verifyManifest`, the sandbox apply
 * writes the same document, and verify reads only this (never the stack config or a component).
 */
export interface VerifyManifest {
  /** Format version of this document. */
  version: 1;
  /** Project and stack that produced it. */
  project: string;
  stack: string;
  hosts: HostExpectation[];
}

export interface HostExpectation {
  /** Host name from the stack config. */
  name: string;
  ssh: SshTarget;
  /** Debian packages that must be installed. */
  packages: string[];
  btrfsVolumes: BtrfsVolumeExpectation[];
  /** Postgres instances run by spark-pg; absent when the host runs none. */
  sparkPg?: SparkPgExpectation;
  /** Redis instances run by spark-redis; absent when the host runs none. */
  redis?: RedisExpectation;
  /** KVM guests; absent when the host runs none. */
  kvm?: KvmExpectation;
  /** The host's server certificate, which spark-pg and spark-redis serve; absent when the host runs neither. */
  tls?: TlsExpectation;
  /** The host firewall (nftables table `inet sparks`); absent when the config declares none. */
  firewall?: FirewallExpectation;
}

/** What the host firewall must let in, and the hash of the rules that say so. */
export interface FirewallExpectation {
  /** The hash in the loaded table's comment, and in the confirmed copy that loads at boot. */
  generation: string;
  /** The SSH port, open to `adminNetworks` only. */
  sshPort: number;
  /** CIDRs (IPv4 or IPv6) that may open SSH connections. */
  adminNetworks: string[];
  /** Each service's port pool on its listen address, open to its client networks only. */
  services: FirewallServiceExpectation[];
  /** libvirt NAT bridges whose guests may ask the host for DHCP and DNS. */
  guestBridges: string[];
}

export interface FirewallServiceExpectation {
  /** "spark-pg" or "redis". */
  name: string;
  listen: string;
  ports: { from: number; to: number };
  clients: string[];
}

export interface TlsExpectation {
  /** The host CA's certificate: the server certificate must be signed by it, and clients verify with it. */
  caFile: string;
  /** The server certificate in use. */
  certFile: string;
  /** IP addresses the server certificate must name (subjectAltName), exactly these. */
  addresses: string[];
  /** Verify fails when the server certificate expires within this many days. */
  verifyDays: number;
}

export interface SshTarget {
  address: string;
  port: number;
  user: string;
  /** Pinned ed25519 host key, authorized_keys form; verify refuses a host presenting another key. */
  hostKey: string;
  /** Private key file to log in with; set only for the throwaway sandbox host. */
  identityFile?: string;
}

export interface BtrfsVolumeExpectation {
  name: string;
  device: string;
  label: string;
  mountpoint: string;
  /** The systemd mount unit that mounts it; it must be enabled, so the volume is mounted at boot. */
  mountUnit: string;
  /** Options that must appear among the mounted filesystem's options. */
  mountOptions: string[];
  /** Whether btrfs quotas must be enabled (a subvolume declares a limit); when false, either state is right. */
  quotas: boolean;
  subvolumes: SubvolumeExpectation[];
}

export interface SubvolumeExpectation {
  name: string;
  /** Absolute path of the subvolume on the host. */
  path: string;
  owner: string;
  group: string;
  /** Octal permission bits as `stat -c %a` prints them, e.g. "755". */
  mode: string;
  /** qgroup limit on referenced bytes, or null for none. */
  limitBytes: number | null;
}

/** The subvolume a service keeps its instances in, by the names of `btrfsVolumes`. */
export interface ServiceRoot {
  volume: string;
  subvolume: string;
}

export interface SparkPgExpectation {
  /** PostgreSQL major version; its client is /usr/lib/postgresql/VERSION/bin/psql. */
  version: number;
  /** The one address every instance must listen on, and only there. */
  listen: string;
  /** Where the instances live: their checks follow from that subvolume's. Absent in older manifests. */
  root?: ServiceRoot;
  /** Networks whose clients may connect over TLS, besides the host itself (CIDRs). */
  clients: string[];
  instances: SparkPgInstanceExpectation[];
}

export interface SparkPgInstanceExpectation {
  name: string;
  /** The instance it was forked from; absent for an instance created empty. */
  forkOf?: string;
  /** For a fork: the btrfs exclusive limit on its own writes, in bytes; absent for none. */
  forkLimitBytes?: number;
}

export interface RedisExpectation {
  /** The one address every instance must listen on, and only there. */
  listen: string;
  /** Where the instances live: their checks follow from that subvolume's. Absent in older manifests. */
  root?: ServiceRoot;
  /** Networks whose clients may connect over TLS, besides the host itself (CIDRs). */
  clients: string[];
  /** `CONFIG GET appendfsync` of every instance (AOF itself must be on). */
  appendfsync: string;
  /** `CONFIG GET save` of every instance, as Redis prints it ("3600 1 300 100", "" for none). */
  save: string;
  /** `CONFIG GET maxmemory` in bytes; 0 = no limit. */
  maxmemory: number;
  /** `CONFIG GET maxmemory-policy`. */
  maxmemoryPolicy: string;
  instances: RedisInstanceExpectation[];
}

export type RedisInstanceExpectation = SparkPgInstanceExpectation;
