import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderInlineCommand } from "../../components/host-script";
import { sandboxDown, sandboxUp } from "../../sandbox";
import { TEST_PORTS } from "../../sandbox/network-plan";
import { e2eBlockerFor, onSandboxHost, ROOT } from "./support";

const blocker = e2eBlockerFor("the KVM image fetch e2e tests");

const STATE_DIR = path.join(ROOT, ".sandbox-e2e-kvm-fetch");
/** The image server listens on the machine's end of the sandbox's veth, in the ports its firewall lets through. */
const PORT = TEST_PORTS.from + 10;
const IMAGE = Buffer.concat([Buffer.from("sparks test image\n"), Buffer.alloc(1 << 20, 7)]);
const SHA256 = createHash("sha256").update(IMAGE).digest("hex");
const SHA512 = createHash("sha512").update(IMAGE).digest("hex");
const BASE_DIR = "/srv/images/base";

const onHost = onSandboxHost(STATE_DIR);

describe.skipIf(blocker !== undefined)("KVM image fetch on the sandbox host", () => {
  let server: Server;
  let imageHost: string;

  const fetchCommand = (digest: string, algo: "sha256" | "sha512" = "sha256") =>
    renderInlineCommand("kvm/image-fetch.sh", { NAME: "test", URL: `http://${imageHost}:${PORT}/test.raw`, ALGO: algo, DIGEST: digest, BASE_DIR, RESOURCE: "e2e-image-fetch" });

  beforeAll(async () => {
    imageHost = (await sandboxUp({ stateDir: STATE_DIR, diskSize: "1G" })).connection.network.machineAddress;
    server = createServer((_request, response) => response.end(IMAGE));
    await new Promise<void>((resolve) => server.listen(PORT, imageHost, resolve));
  }, 120_000);
  afterAll(async () => {
    server?.close();
    await sandboxDown({ stateDir: STATE_DIR });
  }, 120_000);

  it("a checksum mismatch is an error and leaves nothing behind", async () => {
    const run = await onHost(fetchCommand("0".repeat(64)));
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(`has sha256 ${SHA256}, expected ${"0".repeat(64)}: nothing kept`);
    expect((await onHost(`ls -A ${BASE_DIR}`)).stdout.trim()).toBe("");
  }, 180_000);

  it("the pinned checksum keeps the image; a second run downloads nothing", async () => {
    const first = await onHost(fetchCommand(SHA256));
    expect(first.stdout).toContain("sparks-result: changed");
    expect(first.code).toBe(0);
    const stored = await onHost(`sha256sum ${BASE_DIR}/test-${SHA256.slice(0, 12)}/disk.raw`);
    expect(stored.stdout.split(" ")[0]).toBe(SHA256);
    expect((await onHost(`ls -A ${BASE_DIR}`)).stdout.trim()).toBe(`test-${SHA256.slice(0, 12)}`);
    const second = await onHost(fetchCommand(SHA256));
    expect(second.stdout).toContain("sparks-result: unchanged");
  }, 120_000);

  it("a sha512 pin (as Debian's SHA512SUMS give it) is checked the same way", async () => {
    const wrong = await onHost(fetchCommand("0".repeat(128), "sha512"));
    expect(wrong.stderr).toContain(`has sha512 ${SHA512}, expected ${"0".repeat(128)}: nothing kept`);
    expect(wrong.code).not.toBe(0);
    const run = await onHost(fetchCommand(SHA512, "sha512"));
    expect(run.stdout).toContain("sha512 verified");
    expect(run.code).toBe(0);
    expect((await onHost(`sha512sum ${BASE_DIR}/test-${SHA512.slice(0, 12)}/disk.raw`)).stdout.split(" ")[0]).toBe(SHA512);
  }, 120_000);
});
