import { homedir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../lib/project-root";
import { userPath } from "../../lib/user-path";

describe("paths typed on a command line", () => {
  it("resolves a relative path against where npm run was typed (INIT_CWD)", () => {
    expect(userPath("keys/id_ed25519", { INIT_CWD: "/home/op/work" })).toBe("/home/op/work/keys/id_ed25519");
    expect(userPath("../stack.yaml", { INIT_CWD: "/home/op/work" })).toBe("/home/op/stack.yaml");
  });

  it("resolves against the working directory when not run by npm", () => {
    expect(userPath("x.json", {})).toBe(path.join(process.cwd(), "x.json"));
  });

  it("keeps an absolute path, and reads a leading ~/ as the home directory", () => {
    expect(userPath("/etc/key", { INIT_CWD: "/home/op/work" })).toBe("/etc/key");
    expect(userPath("~/.ssh/key", { INIT_CWD: "/home/op/work" })).toBe(path.join(homedir(), ".ssh/key"));
    expect(userPath("~other/key", { INIT_CWD: "/home/op/work" })).toBe("/home/op/work/~other/key");
  });

  it("finds the project root by its package.json", () => {
    expect(projectRoot()).toBe(path.resolve(__dirname, "../.."));
  });
});
