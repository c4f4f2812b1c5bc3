import * as pulumi from "@pulumi/pulumi";
import { beforeAll } from "vitest";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { bundleDir } from "../../components/bundle";
import { BUNDLE_REMOTE_DIR, HEADER_END } from "../../components/host-script";

/** A resource as the mock runtime saw it registered. */
export interface Registered {
  type: string;
  name: string;
  inputs: Record<string, any>;
}

/**
 * Sets Pulumi's mock runtime before the file's tests and returns the list every resource registered
 * under it lands in. `importComponents` runs once the mocks are set: the components are imported
 * only then, never before.
 */
export function mockPulumiRuntime(importComponents: () => Promise<void>): Registered[] {
  const registered: Registered[] = [];
  beforeAll(async () => {
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          registered.push({ type: args.type, name: args.name, inputs: args.inputs });
          return { id: `${args.name}-id`, state: args.inputs };
        },
        call: () => ({}),
      },
      "sparks",
      "unit",
      false,
    );
    await importComponents();
  });
  return registered;
}

export const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGalMW02EhxsccJwMhKX2F6Avhwvj4VM0HeEsoKqxwY0";

export const resolve = <T>(output: pulumi.Output<T>) => new Promise<T>((ok) => output.apply(ok));

/** Lets the mock runtime register what the components create asynchronously. */
export const settle = (ms = 50) => new Promise((ok) => setTimeout(ok, ms));

/** The `NAME=value` lines of a rendered command's parameter header, values as rendered. */
export function headerParams(remoteCommand: string): Record<string, string> {
  const lines = remoteCommand.split("\n");
  const header = lines.slice(2, lines.indexOf(HEADER_END));
  return Object.fromEntries(header.map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
}

/** The URN the engine gives a command of `name` under the components `parents` (stack "unit"), as its header renders it. */
export const renderedUrn = (parents: string, name: string) => `'urn:pulumi:unit::sparks::${parents}$command:remote:Command::${name}'`;

/**
 * A rendered command with its call of the shipped script replaced by that script, read from the
 * bundle the program ships: what the host runs.
 */
export function withShippedScript(remoteCommand: string): string {
  return remoteCommand.replace(new RegExp(`^\\. ${BUNDLE_REMOTE_DIR}/(\\S+)$`, "m"), (_line, file: string) => readFileSync(path.join(bundleDir(), file), "utf8"));
}
