/** Masks every secret value wherever it appears, as the engine masks `secure:` config values. */
export function redact(text: string, secrets: string[]): string {
  return secrets
    .filter((secret) => secret.length >= 4)
    .reduce((masked, secret) => masked.split(secret).join("[secret]"), text);
}
