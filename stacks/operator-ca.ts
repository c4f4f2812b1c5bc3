import { X509Certificate, createPrivateKey } from "node:crypto";
import type { ConfigError } from "./validate";

export interface OperatorCaInput {
  /** `sparks:tlsCaCertificate` as written, or undefined. */
  certificate: unknown;
  /** `sparks:tlsCaKey` (plain text here, only to check it), or undefined. */
  key: string | undefined;
  keyIsSecret: boolean;
  /** The longest server certificate lifetime of any host (days): the CA must outlive it. */
  longestValidDays: number;
  now?: Date;
}

const SET_KEY = "pulumi config set --secret tlsCaKey < ca.key";
/** What a plan without the stack's secrets provider has for an encrypted value (apply/stack-file.ts): nothing to check. */
const UNREAD_SECRET = "[secret]";

/**
 * What is wrong with an operator's CA, by config key. The key's value never appears in a message:
 * the errors are printed, and land in CI logs.
 */
export function operatorCaErrors({ certificate, key, keyIsSecret, longestValidDays, now = new Date() }: OperatorCaInput): ConfigError[] {
  if (certificate === undefined && key === undefined) return [];
  if (key === undefined) return [{ path: "tlsCaKey", message: `is required with tlsCaCertificate: ${SET_KEY}` }];
  if (certificate === undefined) return [{ path: "tlsCaCertificate", message: "is required with tlsCaKey: pulumi config set tlsCaCertificate < ca.crt" }];
  const errors: ConfigError[] = [];
  if (!keyIsSecret) errors.push({ path: "tlsCaKey", message: `must be a secret: ${SET_KEY}` });
  let ca: X509Certificate | undefined;
  try {
    ca = new X509Certificate(String(certificate));
  } catch {
    errors.push({ path: "tlsCaCertificate", message: "is not a PEM certificate (-----BEGIN CERTIFICATE-----)" });
  }
  let privateKey: ReturnType<typeof createPrivateKey> | undefined;
  try {
    if (key !== UNREAD_SECRET) privateKey = createPrivateKey(key);
  } catch {
    errors.push({ path: "tlsCaKey", message: "is not an unencrypted PEM private key (the renew timer signs with it unattended)" });
  }
  if (ca === undefined) return errors;
  if (!ca.ca) errors.push({ path: "tlsCaCertificate", message: `${ca.subject.replace(/\n/g, ", ")} is not a CA certificate (basicConstraints CA:TRUE)` });
  const notAfter = new Date(ca.validTo);
  const needed = new Date(now.getTime() + longestValidDays * 86_400_000);
  if (new Date(ca.validFrom) > now) errors.push({ path: "tlsCaCertificate", message: `is not valid before ${ca.validFrom}` });
  if (notAfter < needed) {
    errors.push({ path: "tlsCaCertificate", message: `expires ${ca.validTo}, before a server certificate issued today would (validDays ${longestValidDays})` });
  }
  if (privateKey !== undefined && !ca.checkPrivateKey(privateKey)) {
    errors.push({ path: "tlsCaKey", message: `does not belong to tlsCaCertificate (fingerprint ${ca.fingerprint256})` });
  }
  return errors;
}
