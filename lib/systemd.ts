/**
 * The name systemd gives the mount unit of a path, as `systemd-escape --path --suffix=mount`
 * prints it: slashes become dashes, and anything but ASCII letters, digits, ':', '_' and a
 * non-leading '.' becomes `\xNN`.
 */
export function mountUnitName(mountpoint: string): string {
  const trimmed = mountpoint.replace(/^\/+|\/+$/g, "").replace(/\/+/g, "/");
  if (trimmed === "") return "-.mount";
  const escaped = [...trimmed]
    .map((ch, i) => {
      if (ch === "/") return "-";
      if (/[A-Za-z0-9:_]/.test(ch) || (ch === "." && i > 0)) return ch;
      return [...Buffer.from(ch, "utf8")].map((byte) => `\\x${byte.toString(16).padStart(2, "0")}`).join("");
    })
    .join("");
  return `${escaped}.mount`;
}
