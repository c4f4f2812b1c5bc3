/**
 * The config paths that may hold a secret (`pulumi config set --secret --path ...`), and only as
 * one: the program reads them with requireSecretObject, so their values reach commands only as
 * secret Outputs (a connection, stdin) and stay secret in state and outputs. The engine tells a
 * program only that a whole key holds a secret somewhere, so a secret anywhere else would be
 * handled as plain text: it is refused.
 */
export const SECRET_PATHS: readonly { pattern: RegExp; example: string }[] = [{ pattern: /^hosts\[\d+\]\.ssh\.privateKey$/, example: "hosts[N].ssh.privateKey" }];

export const isSecretPath = (path: string): boolean => SECRET_PATHS.some((secret) => secret.pattern.test(path));

/** The paths of `{secure: ...}` values inside a stack file's value for `key` (`hosts[0].ssh.privateKey`). */
export function secureLeafPaths(value: unknown, at: string): string[] {
  if (Array.isArray(value)) return value.flatMap((inner, i) => secureLeafPaths(inner, `${at}[${i}]`));
  if (value === null || typeof value !== "object") return [];
  if ("secure" in value && Object.keys(value).length === 1) return [at];
  return Object.entries(value).flatMap(([name, inner]) => secureLeafPaths(inner, `${at}.${name}`));
}

/** A config error for each secret at a path that may not hold one. */
export function misplacedSecrets(paths: readonly string[]): { path: string; message: string }[] {
  return paths
    .filter((path) => !isSecretPath(path))
    .map((path) => ({ path, message: `is a secret, which only ${SECRET_PATHS.map((s) => s.example).join(", ")} may be: the program would handle it as plain text` }));
}

/** Sets `value` at `path` (`hosts[0].ssh.privateKey`) inside `target`. */
export function setAtPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.replace(/\[(\d+)\]/g, ".$1").split(".");
  let node: any = target;
  for (const part of parts.slice(0, -1)) {
    if (node[part] === undefined || typeof node[part] !== "object") throw new Error(`no ${part} on the way to ${path}`);
    node = node[part];
  }
  node[parts[parts.length - 1]] = value;
}
