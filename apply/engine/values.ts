/** The wire signatures of the Pulumi SDK (sdk/nodejs/runtime/rpc.ts). */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
export const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";

export const isSecret = (value: unknown): value is { value: unknown } =>
  typeof value === "object" && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;

/** The plain value a provider receives: secret wrappers removed (assets keep theirs). */
export function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value === null || typeof value !== "object") return value;
  if (isSecret(value)) return unwrapSecrets(value.value);
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, unwrapSecrets(inner)]));
}

/**
 * The secret values of a command's inputs to mask in what is printed: its login key or password
 * and its stdin. (The whole connection is a secret to the SDK, host and user included; masking
 * every string in it would mask "root" everywhere.)
 */
export function secretStrings(inputs: Record<string, unknown>): string[] {
  const plain = unwrapSecrets(inputs) as { connection?: { privateKey?: unknown; password?: unknown }; stdin?: unknown };
  return [plain.connection?.privateKey, plain.connection?.password, isSecret(inputs.stdin) ? plain.stdin : undefined].filter(
    (value): value is string => typeof value === "string" && value !== "",
  );
}

/** Structural equality of two plain values, key order aside. */
export function sameValue(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner) =>
    inner !== null && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.keys(inner).sort().map((key) => [key, inner[key]]))
      : inner,
  );
}
