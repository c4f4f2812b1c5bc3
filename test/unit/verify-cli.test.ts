import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseCliArgs } from "../../verify/cli";

describe("verify CLI arguments", () => {
  it("runs without the deep checks unless --deep is given", () => {
    expect(parseCliArgs(["--stack", "sandbox"])).toMatchObject({ stack: "sandbox", deep: false, json: false, help: false });
    expect(parseCliArgs(["--stack", "sandbox", "--deep"])).toMatchObject({ stack: "sandbox", deep: true });
    expect(parseCliArgs(["--deep", "--manifest", "m.json", "--json"])).toMatchObject({ manifest: path.resolve("m.json"), deep: true, json: true });
  });

  it("refuses a value for --deep and unknown flags", () => {
    expect(() => parseCliArgs(["--stack", "sandbox", "--deep=yes"])).toThrow();
    expect(() => parseCliArgs(["--stack", "sandbox", "--deeper"])).toThrow();
  });

  it("still needs exactly one of --manifest and --stack with --deep", () => {
    expect(() => parseCliArgs(["--deep"])).toThrow("pass exactly one of --manifest FILE and --stack NAME");
  });

  it("--help needs nothing else", () => {
    expect(parseCliArgs(["--help", "--deep"])).toEqual({ json: false, deep: false, help: true });
  });
});
