import * as pulumi from "@pulumi/pulumi";
import type { FirewallExpectation } from "../verify/manifest";
import { SparksComponent } from "./component";
import { firewallGeneration, firewallOpenings, renderFirewallRules, type FirewallRules } from "./firewall-rules";
import type { Host } from "./host";
import { hostCommand } from "./host-command";

/** How long loaded rules wait for the deploy's confirmation before the host restores the last confirmed ones, when the config sets none. */
export const CONFIRM_SECONDS_DEFAULT = 60;

export interface HostFirewallArgs extends FirewallRules {
  host: Host;
  /** Seconds the new rules have to be confirmed over a new SSH connection; default CONFIRM_SECONDS_DEFAULT. */
  confirmSeconds?: number;
}

/**
 * The host's inbound firewall: SSH from the admin networks, each service's port pool from its
 * client networks, loopback, and nothing else. Two commands: `<name>-rules` loads the rules with
 * a revert armed, `<name>-confirm` (a new SSH connection, as every command dials its own) keeps
 * them. Rules that cut the deploy's SSH are never confirmed, so the host takes them back by
 * itself and the confirmation fails with the reason.
 */
export class HostFirewall extends SparksComponent {
  static readonly TYPE = "sparks:host:HostFirewall";

  /** Completes once the rules are loaded and confirmed. */
  readonly ready: pulumi.Resource;
  readonly expected: FirewallExpectation;

  constructor(name: string, args: HostFirewallArgs, opts?: pulumi.ComponentResourceOptions) {
    super(HostFirewall.TYPE, name, opts);
    const { host, confirmSeconds = CONFIRM_SECONDS_DEFAULT, ...rules } = args;
    const generation = firewallGeneration(rules);
    this.expected = { generation, ...rules };
    const params = { GENERATION: generation, CONFIRM_SECONDS: confirmSeconds };
    const loaded = hostCommand(
      `${name}-rules`,
      {
        host,
        create: { script: "host/firewall.sh", params: { ...params, OPENS: firewallOpenings(rules) }, files: [{ content: renderFirewallRules(rules) }] },
        delete: { script: "host/firewall.delete.sh", params: {} },
      },
      { parent: this, dependsOn: [host.ready] },
    );
    this.ready = hostCommand(`${name}-confirm`, { host, create: { script: "host/firewall-confirm.sh", params } }, { parent: this, dependsOn: [loaded] });
    this.registerOutputs({});
  }
}
