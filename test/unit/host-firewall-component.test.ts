import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { firewallGeneration } from "../../components/firewall-rules";
import { headerParams, HOST_KEY, mockPulumiRuntime, renderedUrn, settle, withShippedScript } from "./support";

let Host: typeof import("../../components/host").Host;
let HostFirewall: typeof import("../../components/host-firewall").HostFirewall;

const registered = mockPulumiRuntime(async () => {
  ({ Host } = await import("../../components/host"));
  ({ HostFirewall } = await import("../../components/host-firewall"));
});
const named = (name: string) => registered.filter((r) => r.name === name);

const RULES = {
  sshPort: 22,
  adminNetworks: ["192.0.2.0/24"],
  services: [{ name: "spark-pg", listen: "198.51.100.10", ports: { from: 15432, to: 15499 }, clients: ["198.51.100.0/24"] }],
  guestBridges: [],
};

describe("HostFirewall", () => {
  it("loads the rules it carries with a revert armed, confirms them from a second command, removes them on delete", async () => {
    const host = new Host("f1", { address: "203.0.113.10", hostKey: HOST_KEY, privateKey: pulumi.secret("KEY") });
    const firewall = new HostFirewall("f1-firewall", { host, ...RULES, confirmSeconds: 45 }, { parent: host });
    await settle();
    const generation = firewallGeneration(RULES);
    const rules = named("f1-firewall-rules")[0].inputs;
    expect(headerParams(rules.create)).toMatchObject({
      GENERATION: generation,
      CONFIRM_SECONDS: "45",
      OPENS: "('ssh port 22 from 192.0.2.0/24' 'spark-pg 198.51.100.10 ports 15432-15499 from 198.51.100.0/24')",
      RESOURCE: renderedUrn("sparks:host:Host$sparks:host:HostFirewall", "f1-firewall-rules"),
    });
    // The ruleset itself rides in the command (fd 4), so its text is in the state and in a diff.
    expect(rules.create).toContain("ip daddr 198.51.100.10 tcp dport 15432-15499 ip saddr @spark_pg_clients accept");
    expect(rules.create).toContain(`comment "sparks-firewall ${generation}"`);
    expect(withShippedScript(rules.create)).toContain("systemd-run --quiet --collect --unit=\"$SPARKS_FIREWALL_REVERT_UNIT\"");
    expect(withShippedScript(rules.delete)).toContain("nft delete table $SPARKS_FIREWALL_TABLE");
    const confirm = named("f1-firewall-confirm")[0].inputs;
    expect(headerParams(confirm.create)).toMatchObject({ GENERATION: generation, CONFIRM_SECONDS: "45" });
    expect(confirm.delete).toBeUndefined();
    expect(firewall.expected).toEqual({ generation, ...RULES });
  });
});
