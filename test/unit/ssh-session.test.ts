import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { type ParsedKey, Server, type ServerChannel, utils } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprint, hostKeyBlob } from "../../lib/host-key";
import { type ExecResult, HostKeyMismatchError, SshConnectError, type SshEndpoint, SshSession } from "../../lib/ssh";
import type { HostExpectation } from "../../verify/manifest";
import { exitCode } from "../../verify/cli";
import { runVerify } from "../../verify/run";

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
/** Commands that behave rather than answer. */
const behaviours: Record<string, (stream: ServerChannel) => void> = {
  "sleep infinity": () => undefined,
  // Echoes stdin once the client has closed it.
  cat: (stream) => {
    const input: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => input.push(chunk));
    stream.on("end", () => {
      stream.write(Buffer.concat(input));
      stream.exit(0);
      stream.end();
    });
  },
  // Two packets that split the three bytes of "✓" between them.
  tick: (stream) => {
    const bytes = Buffer.from("tick ✓\n");
    stream.write(bytes.subarray(0, 6));
    setTimeout(() => {
      stream.write(bytes.subarray(6));
      stream.stderr.write("warn\n");
      stream.exit(0);
      stream.end();
    }, 30);
  },
  "kill -KILL $$": (stream) => {
    stream.exit("KILL");
    stream.end();
  },
  slow: (stream) => {
    inFlight++;
    mostInFlight = Math.max(mostInFlight, inFlight);
    setTimeout(() => {
      inFlight--;
      stream.exit(0);
      stream.end();
    }, 50);
  },
};
const received: string[] = [];
let connections = 0;
let inFlight = 0;
let mostInFlight = 0;

function sshServer(): Server {
  return new Server({ hostKeys: [hostKey.private] }, (client) => {
    connections++;
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
          const behaviour = behaviours[command];
          if (behaviour) return behaviour(stream);
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
}

const listen = (server: Server, port = 0) =>
  new Promise<number>((resolve) => server.listen(port, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));
const stop = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

const server = sshServer();
let port = 0;
let keyDir = "";
let keyFile = "";
beforeAll(async () => {
  keyDir = mkdtempSync(path.join(tmpdir(), "ssh-session-"));
  keyFile = path.join(keyDir, "id_ed25519");
  writeFileSync(keyFile, clientKey.private, { mode: 0o600 });
  port = await listen(server);
});
afterAll(async () => {
  rmSync(keyDir, { recursive: true, force: true });
  await stop(server);
});

const pinned = (key: { public: string }) => key.public.split(" ").slice(0, 2).join(" ");
const target = (key = hostKey) => ({ address: "127.0.0.1", port, user: "root", hostKey: pinned(key) });
const endpoint = (key = hostKey, p = port): SshEndpoint => ({ host: "127.0.0.1", port: p, user: "root", hostKey: pinned(key) });
const login = { privateKey: Buffer.from(clientKey.private) };

async function withSession<T>(session: SshSession, use: (session: SshSession) => Promise<T>): Promise<T> {
  try {
    return await use(session);
  } finally {
    session.close();
  }
}

describe("SshSession", () => {
  it("runs commands over one connection, returning exit code, stdout and stderr", async () => {
    const session = await SshSession.open({ ...endpoint(), ...login });
    try {
      const results = await Promise.all([session.exec("echo out; echo err >&2; exit 3"), session.exec("systemctl is-system-running")]);
      expect(results).toEqual([
        { code: 3, stdout: "out\n", stderr: "err\n" },
        { code: 0, stdout: "running\n", stderr: "" },
      ]);
      expect(received.at(-1)).toBe("systemctl is-system-running");
    } finally {
      session.close();
    }
  });

  it("feeds stdin to the command and closes it", async () => {
    const session = await SshSession.open({ ...endpoint(), ...login });
    await withSession(session, async () => {
      expect(await session.exec("cat", { stdin: "secret\nline two\n" })).toEqual({ code: 0, stdout: "secret\nline two\n", stderr: "" });
      expect(await session.exec("cat")).toEqual({ code: 0, stdout: "", stderr: "" });
    });
  });

  it("streams output as it arrives, never splitting a character", async () => {
    const session = await SshSession.open({ ...endpoint(), ...login });
    const out: string[] = [];
    const err: string[] = [];
    const result = await withSession(session, () => session.exec("tick", { onStdout: (c) => out.push(c), onStderr: (c) => err.push(c) }));
    expect(out).toEqual(["tick ", "✓\n"]);
    expect(err).toEqual(["warn\n"]);
    expect(result).toEqual({ code: 0, stdout: "tick ✓\n", stderr: "warn\n" });
  });

  it("gives up on a command that does not finish in time, without rejecting", async () => {
    const session = await SshSession.open({ ...endpoint(), ...login }, { commandTimeoutMs: 200 });
    const err: string[] = [];
    try {
      expect(await session.exec("sleep infinity", { onStderr: (c) => err.push(c) })).toEqual({
        code: null,
        stdout: "",
        stderr: "ssh: command timed out after 200 ms",
      });
      expect(err).toEqual(["ssh: command timed out after 200 ms"]);
    } finally {
      session.close();
    }
  });

  it("reports a command killed by a signal as having no exit code", async () => {
    const session = await SshSession.open({ ...endpoint(), ...login });
    const result = await withSession(session, () => session.exec("kill -KILL $$"));
    expect(result).toEqual({ code: null, stdout: "", stderr: "ssh: killed by signal SIGKILL" });
  });

  it("answers a command sent after the connection closed with an error result, without rejecting", async () => {
    const session = await SshSession.open({ ...endpoint(), ...login });
    session.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await session.exec("systemctl is-system-running")).toMatchObject({ code: null, stderr: "ssh: Not connected" });
  });

  it("keeps at most maxChannels commands in flight, running the rest as channels free up", async () => {
    const session = await SshSession.open({ ...endpoint(), ...login }, { maxChannels: 2 });
    mostInFlight = 0;
    const results = await withSession(session, () => Promise.all(Array.from({ length: 5 }, () => session.exec("slow"))));
    expect(results.map((r) => r.code)).toEqual([0, 0, 0, 0, 0]);
    expect(mostInFlight).toBe(2);
  });

  it("refuses a host presenting another key than the pinned one, with both fingerprints", async () => {
    const error = await SshSession.open({ ...endpoint(otherHostKey), ...login }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostKeyMismatchError);
    expect(error).toMatchObject({
      expected: `ssh-ed25519 ${fingerprint(hostKeyBlob(pinned(otherHostKey)))}`,
      found: `ssh-ed25519 ${fingerprint(hostKeyBlob(pinned(hostKey)))}`,
    });
  });

  it("does not retry a refused host key", async () => {
    const before = connections;
    const error = await SshSession.open({ ...endpoint(otherHostKey), ...login }, { attempts: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostKeyMismatchError);
    expect(connections - before).toBe(1);
  });

  it("tells a refused login apart from a refused host key", async () => {
    const error = await SshSession.open({ ...endpoint(), privateKey: Buffer.from(strangerKey.private) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SshConnectError);
    expect(error).toMatchObject({ hostKeyVerified: true, message: expect.stringMatching(/authentication methods failed/) });
  });

  it("reports a refused login after one attempt, however many are allowed", async () => {
    const before = connections;
    const started = Date.now();
    const error = await SshSession.open({ ...endpoint(), privateKey: Buffer.from(strangerKey.private) }, { attempts: 30 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SshConnectError);
    expect(error).toMatchObject({ hostKeyVerified: true, unreachable: false, message: expect.stringMatching(/authentication methods failed/) });
    expect(connections - before).toBe(1);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("retries a host that accepts TCP and hangs up before its SSH banner", async () => {
    let accepted = 0;
    const hangUp = createTcpServer((socket) => {
      accepted++;
      socket.destroy();
    });
    const hangUpPort = await new Promise<number>((resolve) =>
      hangUp.listen(0, "127.0.0.1", () => resolve((hangUp.address() as AddressInfo).port)),
    );
    try {
      const error = await SshSession.open({ ...endpoint(hostKey, hangUpPort), ...login }, { attempts: 2 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SshConnectError);
      expect(error).toMatchObject({ hostKeyVerified: false, unreachable: true });
      expect(accepted).toBe(2);
    } finally {
      await new Promise<void>((resolve) => hangUp.close(() => resolve()));
    }
  });

  it("retries a refused connection until the host answers", async () => {
    const freePort = await new Promise<number>((resolve) => {
      const probe = createTcpServer().listen(0, "127.0.0.1", () => {
        const { port: p } = probe.address() as AddressInfo;
        probe.close(() => resolve(p));
      });
    });
    const late = sshServer();
    const started = setTimeout(() => void listen(late, freePort), 300);
    try {
      const session = await SshSession.open({ ...endpoint(hostKey, freePort), ...login }, { attempts: 3 });
      await withSession(session, async () => expect((await session.exec("systemctl is-system-running")).code).toBe(0));
    } finally {
      clearTimeout(started);
      await stop(late).catch(() => undefined);
    }
  });

  it("gives up after the last attempt with the error of the connection", async () => {
    const started = Date.now();
    const error = await SshSession.open({ ...endpoint(hostKey, 1), ...login }, { attempts: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SshConnectError);
    expect(error).toMatchObject({ hostKeyVerified: false, unreachable: true, message: expect.stringMatching(/ECONNREFUSED/) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  describe("without a private key", () => {
    let agent: ChildProcess | undefined;
    let agentSocket = "";
    beforeAll(async () => {
      agentSocket = path.join(keyDir, "agent.sock");
      agent = spawn("ssh-agent", ["-D", "-a", agentSocket], { stdio: "ignore" });
      for (let i = 0; i < 100 && !existsSync(agentSocket); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      execFileSync("ssh-add", ["-q", keyFile], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket }, stdio: "ignore" });
    });
    afterAll(() => {
      agent?.kill();
    });

    it("logs in with a key held by the given ssh-agent", async () => {
      const session = await SshSession.open({ ...endpoint(), agent: agentSocket });
      await withSession(session, async () => expect((await session.exec("systemctl is-system-running")).code).toBe(0));
    });

    it("uses SSH_AUTH_SOCK when no agent is given", async () => {
      const saved = process.env.SSH_AUTH_SOCK;
      process.env.SSH_AUTH_SOCK = agentSocket;
      try {
        const session = await SshSession.open(endpoint());
        await withSession(session, async () => expect((await session.exec("systemctl is-system-running")).code).toBe(0));
      } finally {
        if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
        else process.env.SSH_AUTH_SOCK = saved;
      }
    });

    it("does not fall back to the agent when a private key is given", async () => {
      const error = await SshSession.open({ ...endpoint(), privateKey: Buffer.from(strangerKey.private), agent: agentSocket }).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ name: "SshConnectError", hostKeyVerified: true, unreachable: false });
    });
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
    const before = received.length;
    const result = await runVerify(manifest(host()), { identityFile: keyFile });
    expect(result.hosts[0]?.checks.map((c) => [c.name, c.status])).toEqual([
      ["ssh host key", "pass"],
      ["ssh connect", "pass"],
      ["system running", "pass"],
      ["package btrfs-progs: installed", "pass"],
    ]);
    expect(result.summary).toEqual({ passed: 4, failed: 0, skipped: 0, rootCauses: 0, unreachable: 0 });
    expect(received.length).toBeGreaterThan(before);
    expect(received.slice(before).filter((command) => !command.startsWith(PREFIX))).toEqual([]);
  });

  it("fails 'ssh host key' and runs nothing else on a key mismatch", async () => {
    const result = await runVerify(manifest(host(otherHostKey)), { identityFile: keyFile });
    expect(result.hosts[0]?.checks.map((c) => [c.name, c.status])).toEqual([
      ["ssh host key", "fail"],
      ["ssh connect", "skip"],
      ["system running", "skip"],
      ["package btrfs-progs: installed", "skip"],
    ]);
    // A wrong key is a finding about the host, not an outage: exit 1, not "unreachable".
    expect(result.summary).toEqual({ passed: 0, failed: 1, skipped: 3, rootCauses: 1, unreachable: 0 });
    expect(exitCode(result)).toBe(1);
  });

  it("fails 'ssh connect' with the error when nothing listens", async () => {
    const result = await runVerify(manifest(host(hostKey, 1)), { identityFile: keyFile });
    expect(result.hosts[0]?.checks[0]).toMatchObject({ name: "ssh host key", status: "skip" });
    expect(result.hosts[0]?.checks[1]).toMatchObject({ name: "ssh connect", status: "fail", found: expect.stringMatching(/ECONNREFUSED/) });
    expect(result.hosts[0]?.unreachable).toMatch(/ECONNREFUSED/);
    expect(exitCode(result)).toBe(3);
  });

  it("fails 'ssh connect' when there is no way to log in", async () => {
    const result = await runVerify(manifest(host()), { agent: "" });
    expect(result.hosts[0]?.checks[1]).toMatchObject({ name: "ssh connect", status: "fail", found: expect.stringMatching(/^no credentials/) });
    expect(result.summary.unreachable).toBe(1);
  });

  it("resolves the manifest's relative identityFile against the manifest's directory", async () => {
    const h = host();
    h.ssh.identityFile = "id_ed25519";
    const result = await runVerify(manifest(h), { manifestDir: keyDir, agent: "" });
    expect(result.summary.failed).toBe(0);
  });
});
