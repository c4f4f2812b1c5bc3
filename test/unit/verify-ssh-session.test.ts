import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { type ParsedKey, Server, utils } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprint, hostKeyBlob } from "../../verify/host-key";
import type { HostExpectation } from "../../verify/manifest";
import { runVerify } from "../../verify/run";
import { HostKeyMismatchError, openSession, SshConnectError } from "../../verify/ssh-session";
import type { ExecResult } from "../../verify/types";

// An in-process ssh2 server on 127.0.0.1 stands in for sshd: real key exchange, host key and
// public key auth, canned command outputs.
const hostKey = utils.generateKeyPairSync("ed25519");
const otherHostKey = utils.generateKeyPairSync("ed25519");
const clientKey = utils.generateKeyPairSync("ed25519");
const strangerKey = utils.generateKeyPairSync("ed25519");
const authorized = utils.parseKey(clientKey.public) as ParsedKey;

const PREFIX = "LC_ALL=C; export LC_ALL; ";
const answers: Record<string, ExecResult> = {
  "systemctl is-system-running": { code: 0, stdout: "running\n", stderr: "" },
  "dpkg-query -W '-f=${Package}\\t${Status}\\n' -- btrfs-progs": { code: 0, stdout: "btrfs-progs\tinstall ok installed\n", stderr: "" },
  "echo out; echo err >&2; exit 3": { code: 3, stdout: "out\n", stderr: "err\n" },
};
const received: string[] = [];

const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
  client.on("authentication", (ctx) => {
    if (ctx.method !== "publickey" || !ctx.key.data.equals(authorized.getPublicSSH())) return ctx.reject();
    if (ctx.signature === undefined) return ctx.accept();
    authorized.verify(ctx.blob as Buffer, ctx.signature, ctx.hashAlgo) ? ctx.accept() : ctx.reject();
  });
  client.on("ready", () => {
    client.on("session", (acceptSession) => {
      acceptSession().once("exec", (accept, _reject, info) => {
        received.push(info.command);
        const stream = accept();
        const command = info.command.startsWith(PREFIX) ? info.command.slice(PREFIX.length) : info.command;
        if (command === "sleep infinity") return;
        const answer = answers[command] ?? { code: 127, stdout: "", stderr: `sh: unknown: ${command}\n` };
        // Answer later than asked, so concurrent commands overlap on the one connection.
        setTimeout(() => {
          stream.write(answer.stdout);
          stream.stderr.write(answer.stderr);
          stream.exit(answer.code ?? 255);
          stream.end();
        }, 20);
      });
    });
  });
  client.on("error", () => undefined);
});

let port = 0;
let keyDir = "";
let keyFile = "";
beforeAll(async () => {
  keyDir = mkdtempSync(path.join(tmpdir(), "verify-ssh-"));
  keyFile = path.join(keyDir, "id_ed25519");
  writeFileSync(keyFile, clientKey.private, { mode: 0o600 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  rmSync(keyDir, { recursive: true, force: true });
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const pinned = (key: { public: string }) => key.public.split(" ").slice(0, 2).join(" ");
const target = (key = hostKey) => ({ address: "127.0.0.1", port, user: "root", hostKey: pinned(key) });
const login = { privateKey: Buffer.from(clientKey.private) };

describe("openSession", () => {
  it("runs commands over one connection, returning exit code, stdout and stderr", async () => {
    const session = await openSession(target(), login);
    try {
      const results = await Promise.all([session.exec("echo out; echo err >&2; exit 3"), session.exec("systemctl is-system-running")]);
      expect(results).toEqual([
        { code: 3, stdout: "out\n", stderr: "err\n" },
        { code: 0, stdout: "running\n", stderr: "" },
      ]);
      expect(received.at(-1)).toMatch(/^LC_ALL=C; export LC_ALL; /);
    } finally {
      session.close();
    }
  });

  it("gives up on a command that does not finish in time, without rejecting", async () => {
    const session = await openSession(target(), login, { commandTimeoutMs: 200 });
    try {
      expect(await session.exec("sleep infinity")).toEqual({ code: null, stdout: "", stderr: "ssh: command timed out after 200 ms" });
    } finally {
      session.close();
    }
  });

  it("answers a command sent after the connection closed with an error result, without rejecting", async () => {
    const session = await openSession(target(), login);
    session.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await session.exec("systemctl is-system-running")).toMatchObject({ code: null, stderr: "ssh: Not connected" });
  });

  it("refuses a host presenting another key than the pinned one, with both fingerprints", async () => {
    const error = await openSession(target(otherHostKey), login).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostKeyMismatchError);
    expect(error).toMatchObject({
      expected: `ssh-ed25519 ${fingerprint(hostKeyBlob(pinned(otherHostKey)))}`,
      found: `ssh-ed25519 ${fingerprint(hostKeyBlob(pinned(hostKey)))}`,
    });
  });

  it("tells a refused login apart from a refused host key", async () => {
    const error = await openSession(target(), { privateKey: Buffer.from(strangerKey.private) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SshConnectError);
    expect(error).toMatchObject({ hostKeyVerified: true, message: expect.stringMatching(/authentication methods failed/) });
  });
});

describe("runVerify over SSH", () => {
  const host = (key = hostKey, p = port): HostExpectation => ({
    name: "spark-1",
    ssh: { ...target(key), port: p },
    packages: ["btrfs-progs"],
    btrfsVolumes: [],
  });
  const manifest = (h: HostExpectation) => ({ version: 1 as const, project: "p", stack: "s", hosts: [h] });

  it("passes the ssh checks and the host's checks", async () => {
    const result = await runVerify(manifest(host()), { identityFile: keyFile });
    expect(result.hosts[0]?.checks.map((c) => [c.name, c.status])).toEqual([
      ["ssh host key", "pass"],
      ["ssh connect", "pass"],
      ["system running", "pass"],
      ["package btrfs-progs: installed", "pass"],
    ]);
    expect(result.summary).toEqual({ passed: 4, failed: 0, skipped: 0 });
  });

  it("fails 'ssh host key' and runs nothing else on a key mismatch", async () => {
    const result = await runVerify(manifest(host(otherHostKey)), { identityFile: keyFile });
    expect(result.hosts[0]?.checks.map((c) => [c.name, c.status])).toEqual([
      ["ssh host key", "fail"],
      ["ssh connect", "skip"],
      ["system running", "skip"],
      ["package btrfs-progs: installed", "skip"],
    ]);
    expect(result.summary).toEqual({ passed: 0, failed: 1, skipped: 3 });
  });

  it("fails 'ssh connect' with the error when nothing listens", async () => {
    const result = await runVerify(manifest(host(hostKey, 1)), { identityFile: keyFile });
    expect(result.hosts[0]?.checks[0]).toMatchObject({ name: "ssh host key", status: "skip" });
    expect(result.hosts[0]?.checks[1]).toMatchObject({ name: "ssh connect", status: "fail", found: expect.stringMatching(/ECONNREFUSED/) });
  });

  it("fails 'ssh connect' when there is no way to log in", async () => {
    const result = await runVerify(manifest(host()), { agent: "" });
    expect(result.hosts[0]?.checks[1]).toMatchObject({ name: "ssh connect", status: "fail", found: expect.stringMatching(/^no credentials/) });
  });

  it("resolves the manifest's relative identityFile against the manifest's directory", async () => {
    const h = host();
    h.ssh.identityFile = "id_ed25519";
    const result = await runVerify(manifest(h), { manifestDir: keyDir, agent: "" });
    expect(result.summary.failed).toBe(0);
  });
});
