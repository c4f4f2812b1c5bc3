import path from "node:path";
import { parseArgs } from "node:util";
import { userPath } from "../lib/user-path";
import { writeJUnit } from "./junit";
import { loadManifestFile, loadStackManifest, ManifestError, ManifestNotFoundError } from "./load-manifest";
import type { VerifyManifest } from "./manifest";
import { formatReport } from "./report";
import { runVerify } from "./run";

const USAGE = `usage: npm run verify -- (--manifest FILE | --stack NAME) [--junit FILE] [--identity KEYFILE] [--json] [--deep]

  --manifest FILE     verify manifest (JSON), e.g. from \`pulumi stack output --json verifyManifest\`
  --stack NAME        read .sparks/NAME/verify-manifest.json, as written by \`npm run apply -- --stack NAME\`
                      (without --manifest-out)
  --junit FILE        also write JUnit XML: one testsuite per host, one testcase per check
  --identity KEYFILE  private key for every host (default: the manifest's ssh.identityFile, else ssh-agent)
  --json              print the results as JSON instead of the report
  --deep              also a fork round trip per host on its first non-fork spark-pg (and redis) instance: fork
                      to a scratch instance (TTL 10m), write in the fork, check the source is
                      unchanged, destroy the fork

exit status: 0 all checks passed, 1 a check failed, 2 usage error or bad manifest`;

const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  let args;
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

  const result = await runVerify(manifest, {
    identityFile: args.identity,
    manifestDir: path.dirname(manifestFile),
    deep: args.deep,
  });
  process.stdout.write(args.json ? `${JSON.stringify(result, null, 2)}\n` : formatReport(result));
  if (args.junit !== undefined) writeJUnit(result, args.junit);
  return result.summary.failed > 0 ? EXIT.failed : EXIT.ok;
}

interface CliArgs {
  manifest?: string;
  stack?: string;
  junit?: string;
  identity?: string;
  json: boolean;
  deep: boolean;
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
      json: { type: "boolean", default: false },
      deep: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return { json: false, deep: false, help: true };
  if ((values.manifest === undefined) === (values.stack === undefined)) {
    throw new UsageError("pass exactly one of --manifest FILE and --stack NAME");
  }
  const resolve = (file: string | undefined) => (file === undefined ? undefined : userPath(file));
  return {
    manifest: resolve(values.manifest),
    stack: values.stack,
    junit: resolve(values.junit),
    identity: resolve(values.identity),
    json: values.json,
    deep: values.deep,
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
