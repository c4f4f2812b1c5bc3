import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { command, quote } from "../../verify/shell-quote";

const tricky = ["plain", "", "with space", "it's", "$(touch /tmp/pwned)", "`id`", "a\nb", "'", "''", "*", "~root", "semi;colon", "back\\slash", "-dash"];

describe("quote", () => {
  it("leaves plain words alone and single-quotes the rest", () => {
    expect(quote("/srv/data")).toBe("/srv/data");
    expect(quote("compress=zstd:3")).toBe("compress=zstd:3");
    expect(quote("with space")).toBe("'with space'");
    expect(quote("it's")).toBe(`'it'\\''s'`);
    expect(quote("")).toBe("''");
  });

  it("hands every value to a real shell as exactly one unchanged argument", () => {
    const script = `for a in ${tricky.map(quote).join(" ")}; do printf '%s\\0' "$a"; done`;
    const out = execFileSync("/bin/sh", ["-c", script], { encoding: "utf8" });
    expect(out.split("\0").slice(0, -1)).toEqual(tricky);
  });

  it("joins quoted arguments into one command line", () => {
    expect(command("stat", "-c", "%U %G %a", "--", "/srv/a b")).toBe("stat -c '%U %G %a' -- '/srv/a b'");
  });
});
