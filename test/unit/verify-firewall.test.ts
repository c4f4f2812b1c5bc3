import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { firewallGeneration } from "../../components/firewall-rules";
import { checkFirewall, firewallCheckNames, plannedFirewallChecks } from "../../verify/checks/firewall";
import type { FirewallExpectation } from "../../verify/manifest";
import type { CheckResult, Exec, ExecResult } from "../../verify/types";
import { SAMPLE_RULES } from "./fixtures/firewall-rules";

const FIREWALL: FirewallExpectation = { generation: firewallGeneration(SAMPLE_RULES), ...SAMPLE_RULES };

// The real tool's view of the rules this deploy writes (see fixtures/firewall-rules.ts).
const LISTING = readFileSync(path.join(__dirname, "fixtures/nft-sparks-table.json"), "utf8");

const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: "" });
const healthy = (generation = FIREWALL.generation) => `loaded=${generation}\nconfirmed=${generation}\nboot=enabled\nrevert=inactive\n`;

function fakeHost(answers: { listing?: ExecResult; state?: string } = {}): Exec {
  return async (command) => {
    if (command.startsWith("nft -j list table inet sparks")) return answers.listing ?? ok(LISTING);
    if (command.startsWith("sh -c ")) return ok(answers.state ?? healthy());
    throw new Error(`unexpected command: ${command}`);
  };
}

/** The listing with `edit` applied to its parsed items. */
function listing(edit: (items: any[]) => void): ExecResult {
  const parsed = JSON.parse(LISTING);
  edit(parsed.nftables);
  return ok(JSON.stringify(parsed));
}

const byName = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.name, r]));
const n = firewallCheckNames;
const PG = n.service(FIREWALL.services[0]);

describe("verify: the host firewall", () => {
  it("passes the loaded rules of this deploy, confirmed and enabled at boot, in the planned order", async () => {
    expect(FIREWALL.generation).toBe("c18eaf4f564e20aa");
    const results = await checkFirewall(fakeHost(), FIREWALL);
    expect(results.map((r) => r.name)).toEqual(plannedFirewallChecks(FIREWALL).map((c) => c.name));
    expect(results.filter((r) => r.status !== "pass")).toEqual([]);
    expect(results.map((r) => r.name)).toContain("firewall: redis ports 16379 on 2001:db8::5 open to nobody but the host itself");
  });

  it("reads ICMP as nft lists it with /etc/protocols (names) and without it (numbers)", async () => {
    const numbers = listing((items) => {
      const rule = items.find((i) => i.rule?.expr.some((e: any) => e.match?.left?.meta?.key === "l4proto")).rule;
      rule.expr[0].match.right = { set: [1, 58] };
    });
    expect(byName(await checkFirewall(fakeHost({ listing: numbers }), FIREWALL))[n.nothingElse].status).toBe("pass");
  });

  it("fails a pool whose set holds a network the config does not declare", async () => {
    const added = listing((items) => items.find((i) => i.set?.name === "spark_pg_clients").set.elem.push({ prefix: { addr: "0.0.0.0", len: 0 } }));
    const pg = byName(await checkFirewall(fakeHost({ listing: added }), FIREWALL))[PG];
    expect(pg).toMatchObject({ status: "fail", expected: "10.20.0.0/16, 10.30.1.9/32", found: "10.20.0.0/16, 10.30.1.9/32, 0.0.0.0/0" });
  });

  it("fails SSH when an admin network is missing from its set", async () => {
    const removed = listing((items) => (items.find((i) => i.set?.name === "ssh_admin_ipv6").set.elem = undefined));
    expect(byName(await checkFirewall(fakeHost({ listing: removed }), FIREWALL))[n.ssh(FIREWALL)]).toMatchObject({ status: "fail", found: "198.51.100.7/32, 203.0.113.0/24" });
  });

  it("fails a rule added by hand that accepts more, and names it", async () => {
    const extra = listing((items) =>
      items.push({ rule: { family: "inet", table: "sparks", chain: "input", expr: [{ match: { op: "==", left: { payload: { protocol: "tcp", field: "dport" } }, right: 22 } }, { accept: null }] } }),
    );
    const results = byName(await checkFirewall(fakeHost({ listing: extra }), FIREWALL));
    expect(results[n.nothingElse]).toMatchObject({ status: "fail", found: "tcp dport=22" });
    expect(results[n.ssh(FIREWALL)].status).toBe("pass");
  });

  it("fails a table whose input chain accepts by default", async () => {
    const open = listing((items) => (items.find((i) => i.chain?.name === "input").chain.policy = "accept"));
    expect(byName(await checkFirewall(fakeHost({ listing: open }), FIREWALL))[n.table]).toMatchObject({ status: "fail", found: "input chain, hook input, policy accept" });
  });

  it("fails rules that are loaded but still waiting for confirmation, or not loaded at boot", async () => {
    const pending = `loaded=${FIREWALL.generation}\nconfirmed=0123456789abcdef\nboot=enabled\nrevert=active\n`;
    expect(byName(await checkFirewall(fakeHost({ state: pending }), FIREWALL))[n.confirmed(FIREWALL)]).toMatchObject({
      status: "fail",
      found: `loaded ${FIREWALL.generation}, confirmed 0123456789abcdef, boot unit enabled, revert pending`,
    });
    const noBoot = healthy().replace("boot=enabled", "boot=disabled");
    expect(byName(await checkFirewall(fakeHost({ state: noBoot }), FIREWALL))[n.confirmed(FIREWALL)].status).toBe("fail");
  });

  it("fails every check, saying why, when the table is not loaded", async () => {
    const missing: ExecResult = { code: 1, stdout: "", stderr: "Error: No such file or directory\nlist table inet sparks\n" };
    const results = await checkFirewall(fakeHost({ listing: missing, state: "loaded=\nconfirmed=\nboot=\nrevert=inactive\n" }), FIREWALL);
    expect(results.map((r) => r.status)).toEqual(plannedFirewallChecks(FIREWALL).map(() => "fail"));
    expect(results[0].found).toBe("table inet sparks is not loaded");
    expect(results.at(-1)!.found).toBe("loaded none, confirmed none, boot unit missing, revert none");
  });

  it("fails rules of another generation (the last deploy's rules were reverted)", async () => {
    const reverted = healthy("0123456789abcdef");
    expect(byName(await checkFirewall(fakeHost({ state: reverted }), FIREWALL))[n.confirmed(FIREWALL)].status).toBe("fail");
  });
});
