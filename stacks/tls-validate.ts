import { TLS_DEFAULTS } from "../components/host-tls";
import type { TlsConfig } from "./types";
import type { ConfigError, DeepPartial } from "./validate";

/**
 * The three lifetimes nest: a certificate is renewed before verify calls it expiring, and verify
 * warns while it is still valid. Otherwise the renewal could never happen in time, or verify would
 * fail on every fresh certificate. A value not written counts as its default.
 */
export function tlsErrors(tls: DeepPartial<TlsConfig> | undefined, at: string): ConfigError[] {
  if (tls == null || typeof tls !== "object") return [];
  const value = (key: keyof TlsConfig) => (typeof tls[key] === "number" ? (tls[key] as number) : TLS_DEFAULTS[key]);
  const written = (key: keyof TlsConfig) => (typeof tls[key] === "number" ? key : `${key} (default ${TLS_DEFAULTS[key]})`);
  const errors: ConfigError[] = [];
  const [valid, renew, verify] = [value("validDays"), value("renewDays"), value("verifyDays")];
  if (renew >= valid) {
    const key = typeof tls.renewDays === "number" ? "renewDays" : "validDays";
    errors.push({ path: `${at}.${key}`, message: `renewDays (${renew}) must be less than validDays (${valid}), or every certificate is renewed at once` });
  }
  if (verify >= renew) {
    const key = typeof tls.verifyDays === "number" ? "verifyDays" : "renewDays";
    errors.push({
      path: `${at}.${key}`,
      message: `verifyDays (${verify}) must be less than renewDays (${renew}): verify would fail before the renewal is due (${written("verifyDays")}, ${written("renewDays")})`,
    });
  }
  return errors;
}
