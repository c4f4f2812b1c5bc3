import { X509Certificate } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import type { TlsExpectation } from "../verify/manifest";
import { SparksComponent } from "./component";
import type { Host } from "./host";
import { hostCommand } from "./host-command";

/** Certificate lifetimes in days when the stack config sets none (`hosts[N].tls`). */
export const TLS_DEFAULTS = { validDays: 90, renewDays: 30, verifyDays: 14 } as const;

/** Where components/scripts/host/tls.sh keeps the host CA and the server certificate (sparks_host/tls.py reads the same). */
export const TLS_DIR = "/etc/sparks/tls";
export const TLS_CA_FILE = `${TLS_DIR}/ca.crt`;
export const TLS_CERT_FILE = `${TLS_DIR}/current/server.crt`;

/** A CA of the operator's (stack config `tlsCaCertificate`, secret `tlsCaKey`), used instead of one the host makes. */
export interface OperatorCa {
  /** PEM certificate of the CA: public, carried in the command, so a reviewer sees it change. */
  certificate: string;
  /** PEM private key of the CA, unencrypted: a secret, sent on the command's stdin. */
  key: pulumi.Input<string>;
}

export interface HostTlsArgs {
  /** The host the certificates are for. */
  host: Host;
  /** IP addresses the server certificate names (subjectAltName): every service's listen address, no duplicates. */
  addresses: string[];
  /** How long a new server certificate is valid; default TLS_DEFAULTS.validDays (90). */
  validDays?: number;
  /** Re-issue when fewer days are left, on a deploy or by the daily renew timer; default TLS_DEFAULTS.renewDays (30). */
  renewDays?: number;
  /** Verify fails when fewer days are left; default TLS_DEFAULTS.verifyDays (14). */
  verifyDays?: number;
  /** Sign with the operator's CA; default a CA the host makes itself, whose key never leaves it. */
  ca?: OperatorCa;
}

const withFinalNewline = (text: string) => (text.endsWith("\n") ? text : `${text}\n`);

/** The last PEM certificate in a command's output: tls.sh prints the CA certificate last, before its result line. */
export function lastCertificate(stdout: string): string {
  const blocks = stdout.match(/-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+?-----END CERTIFICATE-----\n/g);
  return blocks === null ? "" : blocks[blocks.length - 1];
}

/**
 * The host's CA (its own, or the operator's) and its server certificate for the services' addresses, renewed by a daily
 * timer between deploys (`<name>-certificates`, components/scripts/host/tls.sh). The host tools
 * depend on `ready`, so every instance finds its certificate.
 */
export class HostTls extends SparksComponent {
  static readonly TYPE = "sparks:host:HostTls";

  /** Completes once the certificate exists; what the spark-pg and spark-redis tool commands depend on. */
  readonly ready: pulumi.Resource;
  /** The host CA's certificate (PEM, public): what clients trust. Empty in a preview, which runs nothing. */
  readonly caCertificate: pulumi.Output<string>;
  /** What verify checks of the certificate. */
  readonly expected: TlsExpectation;

  constructor(name: string, args: HostTlsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(HostTls.TYPE, name, opts);
    const verifyDays = args.verifyDays ?? TLS_DEFAULTS.verifyDays;
    this.expected = { caFile: TLS_CA_FILE, certFile: TLS_CERT_FILE, addresses: args.addresses, verifyDays };
    const certificates = hostCommand(
      `${name}-certificates`,
      {
        host: args.host,
        create: {
          script: "host/tls.sh",
          params: {
            ADDRESSES: args.addresses,
            VALID_DAYS: args.validDays ?? TLS_DEFAULTS.validDays,
            RENEW_DAYS: args.renewDays ?? TLS_DEFAULTS.renewDays,
            CA_SOURCE: args.ca ? "operator" : "host",
            CA_FINGERPRINT: args.ca ? new X509Certificate(args.ca.certificate).fingerprint256 : "",
          },
          files: args.ca ? [{ content: withFinalNewline(args.ca.certificate) }] : [],
        },
        delete: { script: "host/tls.delete.sh", params: {} },
        stdin: args.ca ? pulumi.secret(args.ca.key) : undefined,
      },
      { parent: this, dependsOn: [args.host.ready] },
    );
    this.ready = certificates;
    // With a key on stdin the command's output is secret; the operator's certificate is known already.
    this.caCertificate = args.ca ? pulumi.output(withFinalNewline(args.ca.certificate)) : certificates.stdout.apply((stdout) => lastCertificate(stdout ?? ""));
    this.registerOutputs({ caCertificate: this.caCertificate });
  }
}
