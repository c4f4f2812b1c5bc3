import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { projectRoot } from "../lib/project-root";
import { runCli } from "../lib/run-cli";
import { ConfigValidationError } from "../stacks/validate";
import type { ResourceGoal } from "./engine/types";
import { secretStrings } from "./engine/values";
import { evaluateStack } from "./evaluate";
import { renderStackDiff, type StackSide } from "./stack-diff";
import { readStackConfig, withPlaceholdersForUnsetSecrets } from "./stack-file";

const USAGE = `usage: npm run diff -- STACK_A STACK_B

How two stacks differ: their config by path (Pulumi.STACK_A.yaml -> Pulumi.STACK_B.yaml), then the
resources the program makes of each, evaluated as npm run plan does (nothing runs on a host): those
only one stack has, and for the rest the parameters that differ. Secrets show as [secret].`;

/** The internal mode each stack is evaluated in: the mock runtime is global, so one process per stack. */
const EVALUATE = "--evaluate-goals";

interface Evaluated {
  goals: ResourceGoal[];
  secrets: string[];
}

async function evaluate(stack: string): Promise<Evaluated> {
  const config = readStackConfig(stack);
  withPlaceholdersForUnsetSecrets(config);
  const { goals } = await evaluateStack(stack, config);
  return { goals, secrets: [...config.secretValues, ...goals.flatMap((goal) => secretStrings(goal.inputs))] };
}

function evaluateInChild(stack: string): Promise<Evaluated> {
  const tsx = path.join(projectRoot(), "node_modules/.bin/tsx");
  return new Promise((resolve, reject) =>
    execFile(tsx, [__filename, EVALUATE, stack], { cwd: projectRoot(), encoding: "utf8", maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new DiffError(`${stack}: ${stderr.trim() || error.message}`));
      else resolve(JSON.parse(stdout) as Evaluated);
    }),
  );
}

function stackFileConfig(stack: string): Record<string, unknown> {
  const document = parse(readFileSync(path.join(projectRoot(), `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> } | null;
  return document?.config ?? {};
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === EVALUATE && argv.length === 2) {
    process.stdout.write(JSON.stringify(await evaluate(argv[1])));
    return 0;
  }
  if (argv.length !== 2 || argv.some((arg) => arg.startsWith("-"))) {
    console.error(USAGE);
    return 2;
  }
  const sides: StackSide[] = [];
  const evaluated = await Promise.all(argv.map(evaluateInChild));
  argv.forEach((stack, i) => sides.push({ stack, config: stackFileConfig(stack), ...evaluated[i] }));
  process.stdout.write(renderStackDiff(sides[0], sides[1]));
  return 0;
}

class DiffError extends Error {}

runCli(main, [ConfigValidationError, DiffError]);
