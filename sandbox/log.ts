/** Progress goes to stderr so stdout stays clean for `status --json` and summaries. */
export function say(message: string): void {
  process.stderr.write(`sandbox: ${message}\n`);
}

export function seconds(sinceMs: number): string {
  return `${((Date.now() - sinceMs) / 1000).toFixed(1)}s`;
}

/** Raised for conditions the CLI turns into one line and a specific exit code. */
export class SandboxError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "SandboxError";
  }
}
