import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseCliArgs } from "../../verify/cli";

describe("verify CLI arguments", () => {
  it("runs without the deep checks unless --deep is given", () => {
    expect(parseCliArgs(["--stack", "sandbox"])).toMatchObject({ stack: "sandbox", deep: false, format: "text", help: false });
    expect(parseCliArgs(["--stack", "sandbox", "--deep"])).toMatchObject({ stack: "sandbox", deep: true });
    expect(parseCliArgs(["--deep", "--manifest", "m.json", "--json"])).toMatchObject({ manifest: path.resolve("m.json"), deep: true, format: "json" });
  });

  it("refuses a value for --deep and unknown flags", () => {
    expect(() => parseCliArgs(["--stack", "sandbox", "--deep=yes"])).toThrow();
    expect(() => parseCliArgs(["--stack", "sandbox", "--deeper"])).toThrow();
  });

  it("still needs exactly one of --manifest and --stack with --deep", () => {
    expect(() => parseCliArgs(["--deep"])).toThrow("pass exactly one of --manifest FILE and --stack NAME");
  });

  it("--help needs nothing else", () => {
    expect(parseCliArgs(["--help", "--deep"])).toEqual({ format: "text", deep: false, fromHere: false, help: true });
  });

  it("--wait takes a duration, a bare number being seconds", () => {
    expect(parseCliArgs(["--stack", "dev", "--wait", "5m"]).waitMs).toBe(300_000);
    expect(parseCliArgs(["--stack", "dev", "--wait", "1h30m"]).waitMs).toBe(5_400_000);
    expect(parseCliArgs(["--stack", "dev", "--wait", "90"]).waitMs).toBe(90_000);
    expect(parseCliArgs(["--stack", "dev"]).waitMs).toBeUndefined();
    expect(() => parseCliArgs(["--stack", "dev", "--wait", "5 minutes"])).toThrow('--wait: expected a duration like 90s, 5m or 1h30m, got "5 minutes"');
    expect(() => parseCliArgs(["--stack", "dev", "--wait", ""])).toThrow("--wait: expected a duration");
  });

  it("--format is one of text, json, junit, markdown; --json agrees with it or is refused", () => {
    for (const format of ["text", "json", "junit", "markdown"]) expect(parseCliArgs(["--stack", "dev", "--format", format]).format).toBe(format);
    expect(() => parseCliArgs(["--stack", "dev", "--format", "html"])).toThrow('--format: expected one of text, json, junit, markdown, got "html"');
    expect(() => parseCliArgs(["--stack", "dev", "--json", "--format", "markdown"])).toThrow("--json and --format markdown ask for two formats");
    expect(parseCliArgs(["--stack", "dev", "--out", "r.md"]).out).toBe(path.resolve("r.md"));
  });
});
