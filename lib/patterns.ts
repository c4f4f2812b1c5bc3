/**
 * Patterns for values that end up in paths, unit names or commands, shared by the stack config
 * schema and the verify manifest schema. They are the first line of defence; every value is
 * shell-quoted anyway.
 */
export const patterns = {
  /** Host, volume and subvolume names: also systemd unit and resource name parts. */
  name: "^[a-z][a-z0-9-]{0,31}$",
  address: "^[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$",
  /** authorized_keys form; a trailing comment, as in a copied ssh_host_ed25519_key.pub, is allowed. */
  ed25519HostKey: "^ssh-ed25519 [A-Za-z0-9+/]{68}( [ -~]{1,200})?$",
  /** Not ending in "-", which apt reads as "remove this package". */
  debianPackage: "^[a-z0-9][a-z0-9+.-]{0,61}[a-z0-9+.]$",
  device: "^/dev/[A-Za-z0-9][A-Za-z0-9/._:-]{0,200}$",
  label: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
  absolutePath: "^(/[A-Za-z0-9_][A-Za-z0-9._-]{0,63})+$",
  /** Options the kernel lists back in /proc/mounts, so verify can prove them. */
  mountOption:
    "^(noatime|relatime|nodiratime|lazytime|nodatacow|nodatasum|autodefrag|ssd|nossd|discard=async|space_cache=v2|" +
    "(compress|compress-force)=(zstd(:([1-9]|1[0-5]))?|zlib(:[1-9])?|lzo)|commit=[1-9][0-9]{0,3})$",
  /** One IP address, v4 dotted or v6 hex (no zone, no brackets). */
  ipAddress: "^(((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])|[0-9a-fA-F:]*:[0-9a-fA-F:]*)$",
  unixName: "^[a-z_][a-z0-9_-]{0,31}$",
  octalMode: "^[0-7]{3,4}$",
  size: "^[1-9][0-9]{0,15}[KMGT]?$",
  mountUnit: "^[A-Za-z0-9:_.\\\\-]+\\.mount$",
  // KVM guests (stacks/kvm-schema.ts)
  interfaceName: "^[a-z][a-z0-9_-]{0,14}$",
  ipv4Cidr: "^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])/(8|9|1[0-9]|2[0-9]|30)$",
  httpUrl: "^https?://[A-Za-z0-9._~:/?#@!$&'()*+,;=%-]{1,2000}$",
  sha256: "^[0-9a-f]{64}$",
  sha512: "^[0-9a-f]{128}$",
  sshPublicKey: "^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521) [A-Za-z0-9+/=]{20,1000}( [ -~]{1,200})?$",
  qemuConfKey: "^[a-z][a-z0-9_]{0,63}$",
  /** One line of qemu.conf syntax: a number, a quoted string or a list, no newline. */
  qemuConfValue: "^[ -~]{1,500}$",
} as const;
