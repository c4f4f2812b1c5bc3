import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { mountUnitName } from "../../lib/systemd";

const systemdEscape = (path: string) =>
  execFileSync("systemd-escape", ["--path", "--suffix=mount", path], { encoding: "utf8" }).trim();

describe("mount unit names", () => {
  it.each(["/srv/sparks", "/srv/sparks-data", "/srv/a.b_c:d", "/srv/.hidden", "/mnt/x/", "/", "/srv/ünï", "/srv//double"])(
    "names %s as systemd-escape does",
    (path) => {
      expect(mountUnitName(path)).toBe(systemdEscape(path));
    },
  );
});
