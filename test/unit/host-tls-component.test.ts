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
  it("issues the certificate for the service addresses after the host is ready, and keeps the CA on delete", async () => {
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
    expect(withShippedScript(command.delete)).toMatch(/for tool in spark-pg spark-redis[\s\S]*kept the host CA[\s\S]*rm -rf -- "\$SPARKS_TLS_DIR"/);
    expect(tls.expected).toEqual({ caFile: "/etc/sparks/tls/ca.crt", certFile: "/etc/sparks/tls/current/server.crt", addresses: ["127.0.0.1", "10.0.0.5"], verifyDays: 14 });
  });

  it("takes the CA certificate from the end of the script's output, and nothing from a preview", () => {
    expect(lastCertificate(`changed: issued server certificate\n${PEM.replace("AbC", "Old")}${PEM}sparks-result: changed\n`)).toBe(PEM);
    expect(lastCertificate("")).toBe("");
    expect(lastCertificate("-----BEGIN CERTIFICATE-----\n$(reboot)\n-----END CERTIFICATE-----\n")).toBe("");
  });
});
