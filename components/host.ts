import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { bundleArchivePath } from "./bundle";
import { SparksComponent } from "./component";
import { type CommandTarget, hostCommand } from "./host-command";
import { BUNDLE_REMOTE_DIR } from "./host-script";

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
  /** In every command's header; a new value re-runs every command in place (drift repair). Default "". */
  converge?: string;
}

/**
 * A bare-metal Sparks host: the SSH connection every command of the host uses, a wait-for-SSH
 * step, the host scripts and tools shipped once (`<name>-host-files`), and the base packages,
 * which every other command of the host depends on.
 */
export class Host extends SparksComponent implements CommandTarget {
  static readonly TYPE = "sparks:host:Host";

  readonly connection: command.types.input.remote.ConnectionArgs;
  readonly converge: string;
  /** Completes once the host answers, has the shipped scripts and its packages: the dependency of every other host command. */
  readonly ready: pulumi.Resource;
  /** Every Debian package the host must have. */
  readonly packages: string[];

  constructor(name: string, args: HostArgs, opts?: pulumi.ComponentResourceOptions) {
    super(Host.TYPE, name, opts);
    this.packages = [...new Set([...BASE_PACKAGES, ...(args.packages ?? [])])];
    this.converge = args.converge ?? "";
    this.connection = {
      host: args.address,
      port: args.port ?? 22,
      user: args.user ?? "root",
      privateKey: pulumi.secret(args.privateKey),
      hostKey: args.hostKey,
      dialErrorLimit: 30,
      perDialTimeout: 10,
    };
    // Runs before anything is shipped, so it carries its scripts; its delete, the last of a destroy, takes the shipped files back.
    const waitForSsh = hostCommand(
      `${name}-wait-for-ssh`,
      {
        host: this,
        inline: true,
        create: { script: "host/wait-for-ssh.sh", params: { HOST_NAME: name } },
        delete: { script: "host/wait-for-ssh.delete.sh", params: { BUNDLE_DIR: BUNDLE_REMOTE_DIR } },
      },
      { parent: this },
    );
    // CopyToRemote has no delete (copyController.go): versions stay beside each other, so a stored
    // delete finds its script. An update copies only a changed source, so the converge value and
    // the host key (a reinstalled host has a new one) are triggers: a replace is a new copy.
    const files = new command.remote.CopyToRemote(
      `${name}-host-files`,
      { connection: this.connection, source: new pulumi.asset.FileArchive(bundleArchivePath()), remotePath: BUNDLE_REMOTE_DIR, triggers: [this.converge, args.hostKey] },
      { parent: this, dependsOn: [waitForSsh] },
    );
    this.ready = hostCommand(
      `${name}-base-packages`,
      { host: this, create: { script: "host/base-packages.sh", params: { PACKAGES: this.packages } } },
      { parent: this, dependsOn: [files] },
    );
    this.registerOutputs({});
  }
}
