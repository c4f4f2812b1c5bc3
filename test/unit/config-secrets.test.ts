import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { misplacedSecrets, secureLeafPaths } from "../../stacks/secret-paths";
import { planSandbox } from "./plan-sandbox";

const ROOT = path.resolve(__dirname, "../..");
const DIR = path.join(ROOT, "test-results", "config-secrets");
const SENTINEL = "SENTINEL-5e1f0c-never-printed";

/** Pulumi.sandbox.yaml with its host's ssh block replaced by `ssh` (YAML lines, indented as under `ssh:`). */
function sandboxStack(name: string, ssh: string[], extraHostLines: string[] = []): string {
  const text = readFileSync(path.join(ROOT, "Pulumi.sandbox.yaml"), "utf8").replace(
    "      ssh:\n        sandbox: true\n",
    `      ssh:\n${ssh.map((line) => `        ${line}\n`).join("")}${extraHostLines.map((line) => `      ${line}\n`).join("")}`,
  );
  const file = path.join(DIR, `Pulumi.${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

const plan = (args: string[]) => planSandbox(DIR, args);

beforeAll(() => {
  mkdirSync(DIR, { recursive: true });
  writeFileSync(path.join(DIR, "sentinel"), SENTINEL);
});

describe("secrets at a path inside a config key (pulumi config set --secret --path)", () => {
  it("finds the secure: values of a stack file and refuses the paths that may not be secret", () => {
    const hosts = [{ name: "a", ssh: { privateKey: { secure: "v1:x" } }, packages: [{ secure: "v1:y" }] }];
    expect(secureLeafPaths(hosts, "hosts")).toEqual(["hosts[0].ssh.privateKey", "hosts[0].packages[0]"]);
    expect(misplacedSecrets(secureLeafPaths(hosts, "hosts")).map((e) => e.path)).toEqual(["hosts[0].packages[0]"]);
  });

  it("a secret host key reaches the plan nowhere, in text or JSON", async () => {
    const file = sandboxStack("secret-key", ["sandbox: true", "privateKey:", "  secure: v1:AAAAnot-decryptable-here"]);
    const secret = ["--config-file", file, "--secret", `hosts[0].ssh.privateKey=${path.join(DIR, "sentinel")}`];
    const [text, json] = await Promise.all([plan([...secret, "--full"]), plan([...secret, "--json"])]);
    expect(text.code, text.stderr).toBe(0);
    expect(json.code, json.stderr).toBe(0);
    expect(text.stdout).toMatch(/^\+ create sandbox-wait-for-ssh$/m);
    for (const run of [text, json]) expect(run.stdout + run.stderr).not.toContain(SENTINEL);
  });

  it("refuses a secret where the program would handle it as plain text, naming the path", async () => {
    const file = sandboxStack("misplaced", ["sandbox: true"], ["packages:", "  - secure: v1:AAAAx"]);
    const run = await plan(["--config-file", file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("hosts[0].packages[0]: is a secret, which only hosts[N].ssh.privateKey may be");
  });

  it("refuses a host key written in plain text, saying how to set it", async () => {
    const file = sandboxStack("plain-key", ["sandbox: true", `privateKey: ${SENTINEL}`]);
    const run = await plan(["--config-file", file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("hosts[0].ssh.privateKey: must be a secret: pulumi config set --secret --path 'hosts[0].ssh.privateKey' < KEYFILE");
    expect(run.stdout + run.stderr).not.toContain(SENTINEL);
  });
});
