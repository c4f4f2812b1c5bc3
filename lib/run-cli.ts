/**
 * Runs a command-line `main` and exits with its code once stdout is flushed (a pipe takes stdout
 * asynchronously, and process.exit drops what is still queued). An error of one of the `usage`
 * classes prints its message and exits 2; any other prints `describe(error)` and exits 1.
 */
export function runCli(
  main: (argv: string[]) => Promise<number>,
  usage: readonly (abstract new (...args: never[]) => Error)[],
  describe: (error: unknown) => unknown = (error) => error,
): void {
  main(process.argv.slice(2)).then(
    (code) => process.stdout.write("", () => process.exit(code)),
    (error: unknown) => {
      if (usage.some((kind) => error instanceof kind)) {
        console.error((error as Error).message);
        process.exit(2);
      }
      console.error(describe(error));
      process.exit(1);
    },
  );
}
