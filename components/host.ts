import type * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { hostCommand } from "./host-command";

/** Packages every Sparks host needs, whatever it carries. */
export const BASE_PACKAGES = ["btrfs-progs", "util-linux", "procps"] as const;

export interface HostArgs {
  /** IP address or DNS name the deploy connects to. */
  address: string;
  /** SSH port; default 22. */
  port?: number;
  /** Login user; default root. */
  user?: string;
  /** The host's ed25519 public key in authorized_keys form; the deploy refuses any other key. */
  hostKey: string;
  /** Private key the deploy logs in with; pass it as a secret Output, never as plain text. */
  privateKey: pulumi.Input<string>;
  /** Debian packages installed on top of BASE_PACKAGES; default none. */
  packages?: string[];
}

/**
 * A bare-metal Sparks host: the SSH connection every command of the host uses, a wait-for-SSH
 * step they all depend on, and the base packages.
 */
export class Host extends pulumi.ComponentResource {
  static readonly TYPE = "sparks:host:Host";

  readonly connection: command.types.input.remote.ConnectionArgs;
  /** Completes once the host answers and has its packages: the dependency of every other host command. */
  readonly ready: pulumi.Resource;
  /** Every Debian package the host must have. */
  readonly packages: string[];

  constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super(Host.TYPE, name, {}, opts);
    this.packages = [...new Set([...BASE_PACKAGES, ...(args.packages ?? [])])];
    this.connection = {
      host: args.address,
      port: args.port ?? 22,
      user: args.user ?? "root",
      privateKey: pulumi.secret(args.privateKey),
      hostKey: args.hostKey,
      dialErrorLimit: 30,
      perDialTimeout: 10,
    };
    const waitForSsh = hostCommand(
      `${name}-wait-for-ssh`,
      { connection: this.connection, create: { script: "host/wait-for-ssh.sh", params: { HOST_NAME: name } } },
      { parent: this },
    );
    this.ready = hostCommand(
      `${name}-base-packages`,
      { connection: this.connection, create: { script: "host/base-packages.sh", params: { PACKAGES: this.packages } } },
      { parent: this, dependsOn: [waitForSsh] },
    );
    this.registerOutputs({});
  }
}
