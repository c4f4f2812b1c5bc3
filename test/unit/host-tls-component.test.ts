import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { lastCertificate } from "../../components/host-tls";
import { headerParams, HOST_KEY, mockPulumiRuntime, renderedUrn, resolve, settle, withShippedScript } from "./support";

let Host: typeof import("../../components/host").Host;
let HostTls: typeof import("../../components/host-tls").HostTls;

const registered = mockPulumiRuntime(async () => {
  ({ Host } = await import("../../components/host"));
  ({ HostTls } = await import("../../components/host-tls"));
});
const named = (prefix: string) => registered.filter((r) => r.name.startsWith(prefix));

const PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\nAbC+/=\n-----END CERTIFICATE-----\n";

describe("HostTls", () => {
  it("issues the certificate for the service addresses after the host is ready; its delete keeps the CA only while a tool serves it", async () => {
    const host = new Host("t1", { address: "203.0.113.10", hostKey: HOST_KEY, privateKey: pulumi.secret("KEY") });
    const tls = new HostTls("t1-tls", { host, addresses: ["127.0.0.1", "10.0.0.5"], renewDays: 20 }, { parent: host });
    expect(await resolve(tls.urn)).toContain("sparks:host:Host$sparks:host:HostTls::t1-tls");
    await settle();
    const order = named("t1-").map((r) => r.name);
    expect(order.indexOf("t1-tls-certificates")).toBeGreaterThan(order.indexOf("t1-base-packages"));
    const command = named("t1-tls-certificates")[0].inputs;
    expect(headerParams(command.create)).toMatchObject({
      ADDRESSES: "(127.0.0.1 10.0.0.5)",
      VALID_DAYS: "90",
      RENEW_DAYS: "20",
      RESOURCE: renderedUrn("sparks:host:Host$sparks:host:HostTls", "t1-tls-certificates"),
    });
    expect(withShippedScript(command.create)).toContain("reissue_reason");
    // The CA outlives a delete while a tool still serves its certificates, and only then.
    expect(withShippedScript(command.delete)).toMatch(/SPARKS_TLS_TOOLS=\(spark-pg spark-redis\)[\s\S]*for tool in "\$\{SPARKS_TLS_TOOLS\[@\]\}"[\s\S]*kept the host CA[\s\S]*rm -rf -- "\$SPARKS_TLS_DIR"/);
    expect(tls.expected).toEqual({ caFile: "/etc/sparks/tls/ca.crt", certFile: "/etc/sparks/tls/current/server.crt", addresses: ["127.0.0.1", "10.0.0.5"], verifyDays: 14 });
  });

  it("takes the CA certificate from the end of the script's output, and nothing from a preview", () => {
    expect(lastCertificate(`changed: issued server certificate\n${PEM.replace("AbC", "Old")}${PEM}sparks-result: changed\n`)).toBe(PEM);
    expect(lastCertificate("")).toBe("");
    expect(lastCertificate("-----BEGIN CERTIFICATE-----\n$(reboot)\n-----END CERTIFICATE-----\n")).toBe("");
  });

  it("with the operator's CA: the certificate and its fingerprint in the command, the key only on its secret stdin, the certificate exported as given", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "operator-ca-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${dir}/ca.key`, "-out", `${dir}/ca.crt`, "-days", "400", "-subj", "/CN=ops", "-addext", "basicConstraints=critical,CA:TRUE"], { stdio: "ignore" });
    const [certificate, key] = [readFileSync(`${dir}/ca.crt`, "utf8"), readFileSync(`${dir}/ca.key`, "utf8")];
    const host = new Host("t2", { address: "203.0.113.11", hostKey: HOST_KEY, privateKey: pulumi.secret("KEY") });
    const tls = new HostTls("t2-tls", { host, addresses: ["10.0.0.6"], ca: { certificate, key: pulumi.secret(key) } }, { parent: host });
    await settle();
    const command = named("t2-tls-certificates")[0].inputs;
    expect(headerParams(command.create)).toMatchObject({ CA_SOURCE: "operator", CA_FINGERPRINT: new X509Certificate(certificate).fingerprint256 });
    expect(command.create).toContain(certificate.split("\n")[1]);
    for (const line of key.split("\n").filter((l) => l.length > 20)) expect(`${command.create}${command.delete}`).not.toContain(line);
    // In wire form, as the engine gets it: marked secret (the SDK's secret signature), so the state holds it encrypted.
    expect(command.stdin).toEqual({ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: key });
    expect(await resolve(tls.caCertificate)).toBe(certificate);
  });
});
