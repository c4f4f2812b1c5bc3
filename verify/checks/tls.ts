import { ipKey } from "../../lib/cidr";
import { command } from "../../lib/shell-quote";
import type { TlsExpectation } from "../manifest";
import type { CheckResult, Exec, PlannedCheck } from "../types";
import { commandError, fail, pass } from "./result";

export const tlsCheckNames = {
  signed: "tls: the server certificate is signed by the host CA",
  addresses: (tls: TlsExpectation) => `tls: the server certificate names ${tls.addresses.join(", ")}`,
  expiry: (tls: TlsExpectation) => `tls: the server certificate is valid for more than ${tls.verifyDays} days`,
};

export interface TlsCheckOptions {
  /** Read the certificates through `sudo -n` (their directory is root:sparks-tls 0750). Default false. */
  sudo?: boolean;
  /** What "now" is, for the days left; default the clock. */
  now?: Date;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `notAfter=Mar  3 09:00:00 2027 GMT`, as `openssl x509 -enddate` prints it. */
export function parseNotAfter(text: string): Date | undefined {
  const m = /notAfter=(\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\d{4}) GMT/.exec(text);
  if (m === null || !MONTHS.includes(m[1])) return undefined;
  return new Date(Date.UTC(Number(m[6]), MONTHS.indexOf(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])));
}

/** The IP addresses of a subjectAltName as `openssl x509 -ext subjectAltName` prints them. */
export function parseSanAddresses(text: string): string[] {
  return [...text.matchAll(/IP Address:([0-9A-Fa-f.:]+)/g)].map((m) => m[1]);
}

/** Every check `checkTls` reports, in order, with what each expects. */
export function plannedTlsChecks(tls: TlsExpectation): PlannedCheck[] {
  return [
    { name: tlsCheckNames.signed, expected: `${tls.certFile}: OK against ${tls.caFile}` },
    { name: tlsCheckNames.addresses(tls), expected: tls.addresses.join(", ") },
    { name: tlsCheckNames.expiry(tls), expected: `more than ${tls.verifyDays} days left` },
  ];
}

/** The host's server certificate: the CA's, for exactly the declared addresses, not about to expire. */
export async function checkTls(exec: Exec, tls: TlsExpectation, options: TlsCheckOptions = {}): Promise<CheckResult[]> {
  const sudo = options.sudo ? ["sudo", "-n"] : [];
  const [verified, shown] = await Promise.all([
    exec(command(...sudo, "openssl", "verify", "-CAfile", tls.caFile, tls.certFile)),
    exec(command(...sudo, "openssl", "x509", "-in", tls.certFile, "-noout", "-enddate", "-ext", "subjectAltName")),
  ]);
  const n = tlsCheckNames;
  const signed = verified.code === 0 ? pass(n.signed, "OK") : fail(n.signed, "signed by the host CA", `${verified.stdout}\n${verified.stderr}`.trim().split("\n").pop() || commandError(verified));
  if (shown.code !== 0) {
    const found = commandError(shown);
    return [signed, fail(n.addresses(tls), tls.addresses.join(", "), found), fail(n.expiry(tls), `more than ${tls.verifyDays} days left`, found)];
  }
  const named = parseSanAddresses(shown.stdout);
  const key = (list: string[]) => [...new Set(list.map(ipKey))].sort().join(" ");
  const addresses = key(named) === key(tls.addresses) ? pass(n.addresses(tls), named.join(", ")) : fail(n.addresses(tls), tls.addresses.join(", "), named.join(", ") || "no IP address");
  const notAfter = parseNotAfter(shown.stdout);
  let expiry: CheckResult;
  if (notAfter === undefined) {
    expiry = fail(n.expiry(tls), `more than ${tls.verifyDays} days left`, `no expiry date in ${shown.stdout.trim().slice(0, 120)}`);
  } else {
    const daysLeft = Math.floor((notAfter.getTime() - (options.now ?? new Date()).getTime()) / 86_400_000);
    const found = daysLeft < 0 ? `expired ${-daysLeft} days ago (${notAfter.toISOString()})` : `${daysLeft} days left (until ${notAfter.toISOString()})`;
    expiry =
      daysLeft > tls.verifyDays
        ? pass(n.expiry(tls), found)
        : fail(n.expiry(tls), `more than ${tls.verifyDays} days left`, found, "the renewal (sparks-tls-renew.timer, or a deploy) has not happened: see journalctl -u sparks-tls-renew.service");
  }
  return [signed, addresses, expiry];
}
