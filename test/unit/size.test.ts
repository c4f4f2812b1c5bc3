import { describe, expect, it } from "vitest";
import { parseSize } from "../../lib/size";
import { parseDiskSize } from "../../sandbox/disk";

describe("sizes", () => {
  it("reads a whole number with an optional K, M, G or T suffix in binary units", () => {
    expect(parseSize("512")).toBe(512);
    expect(parseSize("100M")).toBe(104857600);
    expect(parseSize("20G")).toBe(21474836480);
    expect(parseSize("2T")).toBe(2 * 1024 ** 4);
  });

  it.each(["16GB", "16GiB", "16g", "0", "016G", "1.5G", " 4G", ""])("refuses %j rather than guess", (size) => {
    expect(() => parseSize(size)).toThrow(`size "${size}" must be a whole number with an optional K, M, G or T suffix`);
  });

  it("refuses a size beyond exact integers", () => {
    expect(() => parseSize("9999999999T")).toThrow("is too large");
  });

  it("reads the sandbox disk size with the same grammar, naming the flag, at least 256M", () => {
    expect(parseDiskSize("4G")).toBe(4 * 1024 ** 3);
    expect(parseDiskSize("256M")).toBe(256 * 1024 ** 2);
    expect(() => parseDiskSize("16GB")).toThrow(/^--disk-size: size "16GB" must be/);
    expect(() => parseDiskSize("255M")).toThrow("--disk-size: 255M is below 256M, too small for a btrfs filesystem");
  });
});
