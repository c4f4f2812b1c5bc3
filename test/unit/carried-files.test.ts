import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderInlineCommand, SCRIPTS_DIR } from "../../components/host-script";
import { HOST_TOOLS_DIR } from "../../components/host-tool";
import { HOST_TOOL_FILES } from "../../components/bundle";

const FIXTURE = path.relative(SCRIPTS_DIR, path.join(__dirname, "../fixtures/scripts/write-carried-files.sh"));
const scratch = mkdtempSync(path.join(tmpdir(), "sparks-carried-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const canary = path.join(scratch, "canary");

/** Runs the rendered command through real bash; returns its stdout and the files it wrote. */
function carry(contents: string[], outDir = mkdtempSync(path.join(scratch, "out-"))) {
  const command = renderInlineCommand(FIXTURE, { COUNT: contents.length, OUT_DIR: outDir, RESOURCE: "test" }, contents.map((content) => ({ content })));
  const stdout = execFileSync("bash", ["-c", command], { encoding: "utf8" });
  return { command, stdout, outDir, written: contents.map((_c, i) => readFileSync(path.join(outDir, String(i + 1)), "utf8")) };
}

const delimiters = (command: string) => [...command.split("\n")[0].matchAll(/(\d)<<'([A-Za-z0-9_]+)'/g)].map((m) => [m[1], m[2]]);

describe("files carried by a remote command", () => {
  it("gives each file its own fd and its own plain delimiter, so an edit changes only the lines it edits", () => {
    const { command, outDir } = carry(["a\n", "a\n", "b\n"]);
    const docs = delimiters(command);
    expect(docs).toEqual([["3", "SPARKS_SCRIPT"], ["4", "SPARKS_FILE4"], ["5", "SPARKS_FILE5"], ["6", "SPARKS_FILE6"]]);
    const edited = carry(["a\n", "c\n", "b\n"], outDir).command.split("\n");
    const before = command.split("\n");
    expect(edited.filter((line, i) => line !== before[i])).toEqual(["c"]);
  });

  it("takes a hashed delimiter for a file that holds its plain one as a line", () => {
    const file = "before\nSPARKS_FILE4\nafter\n";
    const run = carry([file]);
    expect(delimiters(run.command)[1][1]).toMatch(/^SPARKS_FILE4_[0-9a-f]{12}$/);
    expect(run.written).toEqual([file]);
  });

  it("arrives byte for byte, whatever the file holds, and runs nothing in it", () => {
    const hostile = [
      `$(touch ${canary})\n\`touch ${canary}\`\n\${HOME}\n`,
      "back\\slash\\\n'single' \"double\"\n\ttab  trailing  \n\n\nunicode é ✓\r\ncrlf\r\n",
      "EOF\nSPARKS_SCRIPT_000000000000\nSPARKS_FILE4_000000000000\n'SPARKS_FILE5_\n",
    ];
    const { written } = carry(hostile);
    expect(written).toEqual(hostile);
    expect(existsSync(canary)).toBe(false);
  });

  it("is safe from a file holding another file's delimiter line", () => {
    const first = "first\n";
    const [, [, firstDelimiter]] = delimiters(carry([first]).command);
    const second = `before\n${firstDelimiter}\nafter\n`;
    expect(carry([first, second]).written).toEqual([first, second]);
  });

  it("carries the spark-pg tool source exactly", () => {
    const sources = HOST_TOOL_FILES["spark-pg"].map((file) => readFileSync(path.join(HOST_TOOLS_DIR, file), "utf8"));
    expect(carry(sources).written).toEqual(sources);
  });

  it("rewrites a file only when its content differs", () => {
    const first = carry(["one\n", "two\n"]);
    expect(first.stdout).toMatch(/sparks-result: changed/);
    expect(carry(["one\n", "two\n"], first.outDir).stdout).toMatch(/sparks-result: unchanged/);
    const third = carry(["one\n", "three\n"], first.outDir);
    expect(third.stdout).toContain(`wrote ${first.outDir}/2`);
    expect(third.stdout).not.toContain(`wrote ${first.outDir}/1`);
  });

  it("refuses a file without a final newline, which a here-document cannot carry exactly", () => {
    expect(() => renderInlineCommand(FIXTURE, { COUNT: 1, OUT_DIR: scratch }, [{ content: "no newline" }])).toThrow(/newline/);
  });

  it("renders a command without files with one here-document", () => {
    expect(renderInlineCommand("host/wait-for-ssh.sh", { HOST_NAME: "h" }).split("\n")[0]).toBe("bash /dev/fd/3 3<<'SPARKS_SCRIPT'");
  });
});
