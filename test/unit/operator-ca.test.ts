import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { operatorCaErrors } from "../../stacks/operator-ca";
import { planSandbox } from "./plan-sandbox";

const ROOT = path.resolve(__dirname, "../..");
const DIR = path.join(ROOT, "test-results", "operator-ca");

/** A key and a self-signed certificate made by openssl, as an operator would make their CA. */
function makeCertificate(name: string, days: number, extension: string): { cert: string; key: string; keyFile: string } {
  const keyFile = path.join(DIR, `${name}.key`);
  const certFile = path.join(DIR, `${name}.crt`);
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", String(days), "-subj", `/CN=${name}`, "-addext", extension], { stdio: "ignore" });
  return { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8"), keyFile };
}

let ca: ReturnType<typeof makeCertificate>;
let other: ReturnType<typeof makeCertificate>;
let leaf: ReturnType<typeof makeCertificate>;
let shortLived: ReturnType<typeof makeCertificate>;

beforeAll(() => {
  mkdirSync(DIR, { recursive: true });
  ca = makeCertificate("ops-ca", 3650, "basicConstraints=critical,CA:TRUE");
  other = makeCertificate("other-ca", 3650, "basicConstraints=critical,CA:TRUE");
  leaf = makeCertificate("leaf", 3650, "basicConstraints=critical,CA:FALSE");
  shortLived = makeCertificate("short-ca", 30, "basicConstraints=critical,CA:TRUE");
});

const check = (certificate: unknown, key: string | undefined, keyIsSecret = true) => operatorCaErrors({ certificate, key, keyIsSecret, longestValidDays: 90 });

describe("an operator's CA in the stack config (tlsCaCertificate, secret tlsCaKey)", () => {
  it("takes a CA whose secret key belongs to it, and no CA at all", () => {
    expect(check(ca.cert, ca.key)).toEqual([]);
    expect(check(undefined, undefined)).toEqual([]);
    // A plan of a stack whose key is encrypted (only the Pulumi CLI decrypts it) checks the certificate alone.
    expect(check(ca.cert, "[secret]")).toEqual([]);
    expect(check(leaf.cert, "[secret]").map((e) => e.path)).toEqual(["tlsCaCertificate"]);
  });

  it("names the missing half of the pair", () => {
    expect(check(ca.cert, undefined)).toEqual([{ path: "tlsCaKey", message: "is required with tlsCaCertificate: pulumi config set --secret tlsCaKey < ca.key" }]);
    expect(check(undefined, ca.key).map((e) => e.path)).toEqual(["tlsCaCertificate"]);
  });

  it("refuses a key in plain text, a key of another CA, a certificate that is no CA or dies before its server certificates", () => {
    expect(check(ca.cert, ca.key, false)).toEqual([{ path: "tlsCaKey", message: "must be a secret: pulumi config set --secret tlsCaKey < ca.key" }]);
    expect(check(ca.cert, other.key)).toEqual([{ path: "tlsCaKey", message: expect.stringMatching(/^does not belong to tlsCaCertificate \(fingerprint [0-9A-F:]{95}\)$/) }]);
    expect(check(leaf.cert, leaf.key)).toEqual([{ path: "tlsCaCertificate", message: "CN=leaf is not a CA certificate (basicConstraints CA:TRUE)" }]);
    expect(check(shortLived.cert, shortLived.key)).toEqual([{ path: "tlsCaCertificate", message: expect.stringMatching(/^expires .*, before a server certificate issued today would \(validDays 90\)$/) }]);
    expect(check("not a certificate", "not a key").map((e) => `${e.path}: ${e.message}`)).toEqual([
      "tlsCaCertificate: is not a PEM certificate (-----BEGIN CERTIFICATE-----)",
      "tlsCaKey: is not an unencrypted PEM private key (the renew timer signs with it unattended)",
    ]);
  });

  it("never shows the key in a message", () => {
    const errors = [check(ca.cert, other.key), check(ca.cert, ca.key, false), check("x", ca.key.replace("BEGIN", "BEGUN"))].flat();
    expect(errors.length).toBeGreaterThan(2);
    for (const e of errors) for (const line of [...ca.key.split("\n"), ...other.key.split("\n")].filter((l) => l.length > 20)) expect(e.message).not.toContain(line);
  });
});

const plan = (args: string[]) => planSandbox(DIR, args);

/** Pulumi.sandbox.yaml with tlsCaCertificate set to `certificate`. */
function stackWithCa(certificate: string): string {
  const text = readFileSync(path.join(ROOT, "Pulumi.sandbox.yaml"), "utf8").replace(
    /^config:\n/m,
    `config:\n  sparks:tlsCaCertificate: |\n${certificate.trimEnd().split("\n").map((l) => `    ${l}`).join("\n")}\n`,
  );
  const file = path.join(DIR, "Pulumi.sandbox-ca.yaml");
  writeFileSync(file, text);
  return file;
}

describe("the plan of a stack with an operator's CA", () => {
  it("carries the certificate and its fingerprint in each host's TLS command, the key on stdin only", async () => {
    const args = ["--config-file", stackWithCa(ca.cert), "--secret", `tlsCaKey=${ca.keyFile}`];
    const [text, json] = await Promise.all([plan([...args, "--full"]), plan([...args, "--json"])]);
    expect(text.code, text.stderr).toBe(0);
    expect(json.code, json.stderr).toBe(0);
    const keyLines = ca.key.split("\n").filter((l) => l.length > 20);
    for (const line of keyLines) expect(text.stdout + text.stderr + json.stdout + json.stderr).not.toContain(line);
    // The fingerprint as openssl prints it is what tls.sh compares the carried certificate with.
    const fingerprint = execFileSync("openssl", ["x509", "-noout", "-fingerprint", "-sha256"], { input: ca.cert, encoding: "utf8" }).replace(/^[^=]*=/, "").trim();
    const tlsCommand = text.stdout.slice(text.stdout.indexOf("+ create sandbox-tls-certificates"));
    expect(tlsCommand).toMatch(new RegExp(`^    CA_FINGERPRINT=${fingerprint}\n    CA_SOURCE=operator$`, "m"));
  });

  it("plans a stack whose CA key is encrypted, as only the Pulumi CLI can read it", async () => {
    const file = stackWithCa(ca.cert);
    writeFileSync(file, readFileSync(file, "utf8").replace(/^config:\n/m, "config:\n  sparks:tlsCaKey:\n    secure: v1:AAAAnot-decryptable-here\n"));
    const run = await plan(["--config-file", file, "--full"]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("CA_SOURCE=operator");
  });

  it("refuses a CA key given in plain text, before anything is planned", async () => {
    const file = stackWithCa(ca.cert);
    writeFileSync(file, readFileSync(file, "utf8").replace(/^config:\n/m, `config:\n  sparks:tlsCaKey: ${JSON.stringify(ca.key)}\n`));
    const run = await plan(["--config-file", file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("tlsCaKey: must be a secret: pulumi config set --secret tlsCaKey < ca.key");
    for (const line of ca.key.split("\n").filter((l) => l.length > 20)) expect(run.stdout + run.stderr).not.toContain(line);
  });
});
