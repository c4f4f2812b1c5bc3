import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderScriptBody, SCRIPTS_DIR } from "../../components/host-script";

const ROOT = path.resolve(__dirname, "../..");

function shellFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" || entry.name.startsWith(".") ? [] : shellFiles(full);
    return entry.name.endsWith(".sh") ? [full] : [];
  });
}

function shellcheck(file: string): string {
  const result = spawnSync("shellcheck", ["--external-sources", "--severity=style", "--format=gcc", file], { cwd: ROOT, encoding: "utf8" });
  if (result.error) throw result.error;
  return result.stdout;
}

const scratch = mkdtempSync(path.join(tmpdir(), "sparks-shellcheck-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("shellcheck", () => {
  it("is installed", () => {
    expect(execFileSync("shellcheck", ["--version"], { encoding: "utf8" })).toMatch(/version/);
  });

  it.each(shellFiles(ROOT).map((file) => [path.relative(ROOT, file), file]))("passes %s", (_name, file) => {
    expect(shellcheck(file)).toBe("");
  });

  const hostScripts = shellFiles(SCRIPTS_DIR)
    .map((file) => path.relative(SCRIPTS_DIR, file))
    .filter((script) => !script.startsWith("lib/"));

  it.each(hostScripts)("passes %s as rendered, with its header and library", (script) => {
    const params = Object.fromEntries(
      [...new Set([...renderScriptBody(script, {}).matchAll(/\$\{?([A-Z][A-Z0-9_]*)\b/g)].map((m) => m[1]))]
        .map((name) => [name, ["PACKAGES", "OPTIONS", "TOOL_FILES", "ADDRESSES", "OPENS", "BASH_SOURCE"].includes(name) ? ["a", "b c"] : "value with 'quotes'"]),
    );
    const rendered = path.join(scratch, script.replace(/\//g, "_"));
    writeFileSync(rendered, `#!/usr/bin/env bash\n${renderScriptBody(script, params)}`);
    expect(shellcheck(rendered)).toBe("");
  });
});
