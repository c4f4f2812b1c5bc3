import { describe, expect, it } from "vitest";
import { checkTls, parseNotAfter, parseSanAddresses, plannedTlsChecks } from "../../verify/checks/tls";
import type { TlsExpectation } from "../../verify/manifest";
import type { CheckResult, Exec, ExecResult } from "../../verify/types";

// Outputs as OpenSSL 3.0 (Debian bookworm) prints them.
const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: "" });
const err = (code: number, stderr: string, stdout = ""): ExecResult => ({ code, stdout, stderr });

const TLS: TlsExpectation = { caFile: "/etc/sparks/tls/ca.crt", certFile: "/etc/sparks/tls/current/server.crt", addresses: ["127.0.0.1", "2001:db8::1"], verifyDays: 14 };
const NOW = new Date("2026-12-03T09:00:00Z");
const shown = (notAfter: string, san = "IP Address:127.0.0.1, IP Address:2001:DB8:0:0:0:0:0:1") => ok(`notAfter=${notAfter}\nX509v3 Subject Alternative Name: \n    ${san}\n`);

const recorded = {
  verified: ok("/etc/sparks/tls/current/server.crt: OK\n"),
  foreign: err(2, "CN = 127.0.0.1\nerror 20 at 0 depth lookup: unable to get local issuer certificate\nerror /etc/sparks/tls/current/server.crt: verification failed\n"),
  fresh: shown("Mar  3 09:00:00 2027 GMT"),
  missing: err(1, "Could not open file or uri for loading certificate from /etc/sparks/tls/current/server.crt\n"),
};

function fakeHost(answers: { verify?: ExecResult; x509?: ExecResult } = {}): { exec: Exec; commands: string[] } {
  const commands: string[] = [];
  const exec: Exec = async (command) => {
    commands.push(command);
    if (command.startsWith("openssl verify ") || command.startsWith("sudo -n openssl verify ")) return answers.verify ?? recorded.verified;
    if (command.includes("openssl x509 ")) return answers.x509 ?? recorded.fresh;
    throw new Error(`unexpected command: ${command}`);
  };
  return { exec, commands };
}
const byName = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.name, r]));
const EXPIRY = "tls: the server certificate is valid for more than 14 days";
const ADDRESSES = "tls: the server certificate names 127.0.0.1, 2001:db8::1";
const SIGNED = "tls: the server certificate is signed by the host CA";

describe("verify: the host's TLS certificate", () => {
  it("passes a fresh certificate of the host CA for exactly the declared addresses, in the planned order", async () => {
    const { exec, commands } = fakeHost();
    const results = await checkTls(exec, TLS, { now: NOW });
    expect(results.map((r) => r.name)).toEqual(plannedTlsChecks(TLS).map((c) => c.name));
    expect(results.filter((r) => r.status !== "pass")).toEqual([]);
    expect(byName(results)[EXPIRY].found).toBe("90 days left (until 2027-03-03T09:00:00.000Z)");
    expect(commands).toEqual([
      "openssl verify -CAfile /etc/sparks/tls/ca.crt /etc/sparks/tls/current/server.crt",
      "openssl x509 -in /etc/sparks/tls/current/server.crt -noout -enddate -ext subjectAltName",
    ]);
  });

  it("fails a certificate another CA signed, naming OpenSSL's verdict", async () => {
    const results = byName(await checkTls(fakeHost({ verify: recorded.foreign }).exec, TLS, { now: NOW }));
    expect(results[SIGNED]).toMatchObject({ status: "fail", found: "error /etc/sparks/tls/current/server.crt: verification failed" });
  });

  it("fails a certificate that expires within verifyDays, naming the days left, and an expired one", async () => {
    const soon = byName(await checkTls(fakeHost({ x509: shown("Dec 13 09:00:00 2026 GMT") }).exec, TLS, { now: NOW }));
    expect(soon[EXPIRY]).toMatchObject({ status: "fail", expected: "more than 14 days left", found: "10 days left (until 2026-12-13T09:00:00.000Z)" });
    expect(soon[EXPIRY].detail).toContain("sparks-tls-renew");
    const gone = byName(await checkTls(fakeHost({ x509: shown("Nov 30 09:00:00 2026 GMT") }).exec, TLS, { now: NOW }));
    expect(gone[EXPIRY].found).toBe("expired 3 days ago (2026-11-30T09:00:00.000Z)");
  });

  it("fails a certificate that names other addresses, or fewer", async () => {
    const other = byName(await checkTls(fakeHost({ x509: shown("Mar  3 09:00:00 2027 GMT", "IP Address:127.0.0.1") }).exec, TLS, { now: NOW }));
    expect(other[ADDRESSES]).toMatchObject({ status: "fail", expected: "127.0.0.1, 2001:db8::1", found: "127.0.0.1" });
    const none = byName(await checkTls(fakeHost({ x509: shown("Mar  3 09:00:00 2027 GMT", "DNS:example.com") }).exec, TLS, { now: NOW }));
    expect(none[ADDRESSES].found).toBe("no IP address");
  });

  it("fails every check of a missing certificate, naming why, and reads through sudo when asked", async () => {
    const { exec, commands } = fakeHost({ verify: err(2, "Could not open file\n"), x509: recorded.missing });
    const results = await checkTls(exec, TLS, { now: NOW, sudo: true });
    expect(results.map((r) => r.status)).toEqual(["fail", "fail", "fail"]);
    expect(byName(results)[EXPIRY].found).toContain("Could not open file or uri");
    expect(commands.every((c) => c.startsWith("sudo -n openssl "))).toBe(true);
  });

  it("parses OpenSSL's expiry date and subjectAltName addresses", () => {
    expect(parseNotAfter("notAfter=Mar  3 09:00:00 2027 GMT")?.toISOString()).toBe("2027-03-03T09:00:00.000Z");
    expect(parseNotAfter("notAfter=Dec 31 23:59:59 2026 GMT")?.toISOString()).toBe("2026-12-31T23:59:59.000Z");
    expect(parseNotAfter("no date")).toBeUndefined();
    expect(parseSanAddresses("    IP Address:10.0.0.5, DNS:x, IP Address:FD00:0:0:0:0:0:0:1\n")).toEqual(["10.0.0.5", "FD00:0:0:0:0:0:0:1"]);
  });
});
