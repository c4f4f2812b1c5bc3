/** Masks every secret value wherever it appears, as the engine masks `secure:` config values. */
export function redact(text: string, secrets: string[]): string {
  // Each distinct secret once (a fleet's hosts share their key), longest first: a secret that
  // contains a shorter one is masked whole.
  return [...new Set(secrets)]
    .filter((secret) => secret.length >= 4)
    .sort((a, b) => b.length - a.length)
    .reduce((masked, secret) => masked.split(secret).join("[secret]"), text);
}
