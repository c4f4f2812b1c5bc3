/**
 * Patterns for values that end up in paths, unit names or commands, shared by the stack config
 * schema and the verify manifest schema. They are the first line of defence; every value is
 * shell-quoted anyway.
 */
export const patterns = {
  /** Host, volume and subvolume names: also systemd unit and resource name parts. */
  name: "^[a-z][a-z0-9-]{0,31}$",
  address: "^[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$",
  ed25519HostKey: "^ssh-ed25519 [A-Za-z0-9+/]{68}$",
  debianPackage: "^[a-z0-9][a-z0-9+.-]{1,62}$",
  device: "^/dev/[A-Za-z0-9][A-Za-z0-9/._:-]{0,200}$",
  label: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
  absolutePath: "^(/[A-Za-z0-9_][A-Za-z0-9._-]{0,63})+$",
  mountOption: "^[a-z0-9_]+(=[A-Za-z0-9_:.,-]+)?$",
  unixName: "^[a-z_][a-z0-9_-]{0,31}$",
  octalMode: "^[0-7]{3,4}$",
  size: "^[1-9][0-9]{0,15}[KMGT]?$",
  mountUnit: "^[A-Za-z0-9:_.\\\\-]+\\.mount$",
} as const;
