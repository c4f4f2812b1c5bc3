import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderInlineCommand } from "../../components/host-script";
import { renderHeader } from "../../components/shell";
import { command, posixQuote, shellQuote } from "../../lib/shell-quote";

const scratch = mkdtempSync(path.join(tmpdir(), "sparks-quote-"));
const canary = path.join(scratch, "injected");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const HOSTILE = [
  "plain",
  "with space",
  "it's",
  `"double"`,
  `$(touch ${canary})`,
  `\`touch ${canary}\``,
  `; touch ${canary}`,
  `&& touch ${canary} #`,
  "$HOME ${PATH}",
  "back\\slash\\",
  "new\nline",
  "tab\tand\rreturn",
  "*",
  "~",
  "-n",
  "",
  "ünïcödé ✓",
  `'; touch ${canary}; echo '`,
];

/** What bash reads back from a rendered header: each value NUL-terminated. */
function readBack(header: string, names: string[]): string[] {
  const print = names.map((name) => `printf '%s\\0' "$${name}"`).join("; ");
  const output = execFileSync("bash", ["-c", `${header}\n${print}`], { encoding: "utf8" });
  return output.split("\0").slice(0, -1);
}

describe("shell quoting of script parameters", () => {
  it.each(HOSTILE.map((value) => [JSON.stringify(value), value]))("reads back %s unchanged and runs nothing", (_label, value) => {
    expect(readBack(renderHeader({ VALUE: value }), ["VALUE"])).toEqual([value]);
    expect(existsSync(canary)).toBe(false);
  });

  it("renders lists as bash arrays that keep each element whole", () => {
    const header = renderHeader({ ITEMS: HOSTILE });
    const output = execFileSync("bash", ["-c", `${header}\nprintf '%s\\0' "\${ITEMS[@]}"`], { encoding: "utf8" });
    expect(output.split("\0").slice(0, -1)).toEqual(HOSTILE);
    expect(existsSync(canary)).toBe(false);
  });

  it("keeps every header on one line per parameter, whatever the values hold", () => {
    const header = renderHeader({ A: "x\nSPARKS_SCRIPT_0\ntouch /tmp/x", B: "y" });
    expect(header.split("\n")).toHaveLength(2);
  });

  it("leaves safe words bare and quotes the rest", () => {
    expect(shellQuote("/dev/vdb")).toBe("/dev/vdb");
    expect(shellQuote("compress=zstd:1")).toBe("compress=zstd:1");
    expect(shellQuote("a b")).toBe("'a b'");
    expect(shellQuote("")).toBe("''");
  });

  it("refuses a parameter name bash would not read as a variable", () => {
    expect(() => renderHeader({ "BAD;NAME": "x" })).toThrow(/BAD;NAME/);
    expect(() => renderHeader({ lower: "x" })).toThrow(/lower/);
  });

  it("runs a rendered host script with hostile values without injecting anything", () => {
    const value = `x\n'SPARKS_SCRIPT_\n$(touch ${canary})`;
    const command = renderInlineCommand("host/wait-for-ssh.sh", { HOST_NAME: value });
    // The script fails on a machine that is not a systemd Debian host; what matters is what it ran.
    const result = (() => {
      try {
        return execFileSync("bash", ["-c", command], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      } catch (error) {
        return String((error as { stderr?: string }).stderr ?? "");
      }
    })();
    expect(result).toContain("x\n'SPARKS_SCRIPT_\n$(touch");
    expect(existsSync(canary)).toBe(false);
  });
});

// Verify's remote commands run in the login shell, which may be dash: no `$'...'` there.
describe("shell quoting of command lines for any POSIX shell", () => {
  const tricky = ["plain", "", "with space", "it's", `$(touch ${canary})`, `\`touch ${canary}\``, "a\nb", "'", "''", "*", "~root", "semi;colon", "back\\slash", "-dash"];

  it("leaves plain words alone and single-quotes the rest", () => {
    expect(posixQuote("/srv/data")).toBe("/srv/data");
    expect(posixQuote("compress=zstd:3")).toBe("compress=zstd:3");
    expect(posixQuote("with space")).toBe("'with space'");
    expect(posixQuote("it's")).toBe(`'it'\\''s'`);
    expect(posixQuote("")).toBe("''");
  });

  it("hands every value to /bin/sh as exactly one unchanged argument", () => {
    const script = `for a in ${tricky.map(posixQuote).join(" ")}; do printf '%s\\0' "$a"; done`;
    const out = execFileSync("/bin/sh", ["-c", script], { encoding: "utf8" });
    expect(out.split("\0").slice(0, -1)).toEqual(tricky);
    expect(existsSync(canary)).toBe(false);
  });

  it("joins quoted arguments into one command line", () => {
    expect(command("stat", "-c", "%U %G %a", "--", "/srv/a b")).toBe("stat -c '%U %G %a' -- '/srv/a b'");
  });
});
