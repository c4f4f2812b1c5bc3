import { writeFileSync } from "node:fs";
import path from "node:path";
import { isIP } from "node:net";
import { parseArgs } from "node:util";
import { userPath } from "../lib/user-path";
import { parseDuration } from "./duration";
import { annotations, writeStepSummary } from "./github";
import { formatJson } from "./json";
import { toJUnitXml, writeJUnit } from "./junit";
import { loadManifestFile, loadStackManifest, ManifestError, ManifestNotFoundError } from "./load-manifest";
import type { VerifyManifest } from "./manifest";
import { formatMarkdown } from "./markdown";
import { formatReport } from "./report";
import { runVerify } from "./run";
import type { VerifyResult } from "./types";
import { verifyWithWait } from "./wait";

const USAGE = `usage: npm run verify -- (--manifest FILE | --stack NAME) [--wait DURATION] [--format FORMAT] [--out FILE]
                         [--junit FILE] [--identity KEYFILE] [--deep] [--from-here [--source ADDRESS]]

  --manifest FILE     verify manifest (JSON), e.g. from \`pulumi stack output --json verifyManifest\`
  --stack NAME        read .sparks/NAME/verify-manifest.json, as written by \`npm run apply -- --stack NAME\`
                      (without --manifest-out)
  --wait DURATION     check a failing or unreachable host again (every 5 s, all its checks) until it
                      passes or DURATION (90s, 5m, 1h30m) is up; each check reports its attempts
  --format FORMAT     text (default), json, junit or markdown
  --out FILE          write the report to FILE instead of standard output
  --junit FILE        also write JUnit XML: one testsuite per host, one testcase per check
  --json              the same as --format json
  --identity KEYFILE  private key for every host (default: the manifest's ssh.identityFile, else ssh-agent)
  --deep              also a fork round trip per host on its first non-fork spark-pg (and redis) instance: fork
                      to a scratch instance (TTL 10m), write in the fork, check the source is
                      unchanged, destroy the fork
  --from-here         also connect to every spark-pg and Redis instance from this machine, as a client
                      with no credentials: TLS with a certificate the host CA signed for the listen
                      address, the plain protocol refused, and (Postgres) this machine's address let
                      in exactly when the config declares it (the host itself or a clients network)
  --source ADDRESS    make those connections from this local address (a runner with several)

A failure that follows from another (a volume not mounted, so its subvolumes are missing) is
reported under it: one finding, its followers counted. Under GitHub Actions (GITHUB_ACTIONS=true)
each finding is also an error annotation, and the markdown report is appended to
$GITHUB_STEP_SUMMARY when that is set.

exit status: 0 all checks passed, 1 a check failed, 2 usage error or bad manifest,
             3 a host was unreachable (no login: credentials or connection), whatever else failed`;

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

const FORMATS = ["text", "json", "junit", "markdown"] as const;
type Format = (typeof FORMATS)[number];

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (error) {
    process.stderr.write(`verify: ${(error as Error).message}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }

  let manifest: VerifyManifest;
  let manifestFile: string;
  try {
    if (args.manifest !== undefined) {
      manifestFile = args.manifest;
      manifest = loadManifestFile(manifestFile);
    } else {
      ({ file: manifestFile, manifest } = loadStackManifest(args.stack as string));
    }
  } catch (error) {
    if (error instanceof ManifestError || error instanceof ManifestNotFoundError) {
      process.stderr.write(`verify: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }

  const options = { identityFile: args.identity, manifestDir: path.dirname(manifestFile), deep: args.deep, fromHere: args.fromHere, source: args.source };
  const result = args.waitMs === undefined ? await runVerify(manifest, options) : await verifyWithWait(manifest, options, { waitMs: args.waitMs });

  const report = formatAs(args.format, result);
  if (args.out === undefined) process.stdout.write(report);
  else writeFileSync(args.out, report);
  if (args.junit !== undefined) writeJUnit(result, args.junit);
  writeStepSummary(args.format === "markdown" ? report : formatMarkdown(result));
  if (process.env.GITHUB_ACTIONS === "true") for (const line of annotations(result)) process.stderr.write(`${line}\n`);
  return exitCode(result);
}

export function exitCode(result: VerifyResult): number {
  if (result.summary.unreachable > 0) return EXIT.unreachable;
  return result.summary.failed > 0 ? EXIT.failed : EXIT.ok;
}

function formatAs(format: Format, result: VerifyResult): string {
  switch (format) {
    case "text":
      return formatReport(result);
    case "json":
      return formatJson(result);
    case "junit":
      return toJUnitXml(result);
    case "markdown":
      return formatMarkdown(result);
  }
}

export interface CliArgs {
  manifest?: string;
  stack?: string;
  junit?: string;
  identity?: string;
  out?: string;
  format: Format;
  /** `--wait`, in milliseconds; absent for one run. */
  waitMs?: number;
  deep: boolean;
  fromHere: boolean;
  source?: string;
  help: boolean;
}

export function parseCliArgs(argv: string[]): CliArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      manifest: { type: "string" },
      stack: { type: "string" },
      junit: { type: "string" },
      identity: { type: "string" },
      out: { type: "string" },
      format: { type: "string" },
      wait: { type: "string" },
      json: { type: "boolean", default: false },
      deep: { type: "boolean", default: false },
      "from-here": { type: "boolean", default: false },
      source: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return { format: "text", deep: false, fromHere: false, help: true };
  if (values.source !== undefined && !values["from-here"]) throw new UsageError("--source is the address of --from-here's connections: pass --from-here too");
  if (values.source !== undefined && isIP(values.source) === 0) throw new UsageError(`--source: "${values.source}" is not an IP address`);
  if ((values.manifest === undefined) === (values.stack === undefined)) {
    throw new UsageError("pass exactly one of --manifest FILE and --stack NAME");
  }
  if (values.json && values.format !== undefined && values.format !== "json") {
    throw new UsageError(`--json and --format ${values.format} ask for two formats`);
  }
  const format = values.format ?? (values.json ? "json" : "text");
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format: expected one of ${FORMATS.join(", ")}, got "${format}"`);
  let waitMs: number | undefined;
  if (values.wait !== undefined) {
    try {
      waitMs = parseDuration(values.wait);
    } catch (error) {
      throw new UsageError(`--wait: ${(error as Error).message}`);
    }
  }
  const resolve = (file: string | undefined) => (file === undefined ? undefined : userPath(file));
  return {
    manifest: resolve(values.manifest),
    stack: values.stack,
    junit: resolve(values.junit),
    identity: resolve(values.identity),
    out: resolve(values.out),
    format: format as Format,
    ...(waitMs === undefined ? {} : { waitMs }),
    deep: values.deep,
    fromHere: values["from-here"],
    ...(values.source === undefined ? {} : { source: values.source }),
    help: false,
  };
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`verify: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = EXIT.usage;
    },
  );
}
