import dgram from "node:dgram";
import net from "node:net";
import tls from "node:tls";

/** What a service answered a client that carries no credentials. */
export interface ProbeAnswer {
  /** The TLS handshake verified the server's certificate for the address; false without TLS or when it failed. */
  tlsVerified: boolean;
  /** The first thing the server said, or why there was nothing: "auth requested", "hba refused: ...", "closed", ... */
  said: string;
  /** The local address the connection came from, as the server saw it (no NAT assumed). */
  localAddress?: string;
}

export interface ProbeTarget {
  address: string;
  port: number;
  /** Local address to connect from; default the one the route picks. */
  source?: string;
  timeoutMs?: number;
}

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/** A protocol 3.0 StartupMessage for a role nobody declared: it reaches pg_hba.conf, and no further. */
function startupMessage(): Buffer {
  const body = Buffer.from("user\0sparks-verify-probe\0database\0postgres\0\0", "utf8");
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(196608, 4);
  return Buffer.concat([head, body]);
}

/** The fields of an ErrorResponse body: severity, code, message ... keyed by their letter. */
function errorFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const end = body.indexOf(0, at + 1);
    fields.set(String.fromCharCode(body[at]), body.subarray(at + 1, end).toString("utf8"));
    at = end + 1;
  }
  return fields;
}

/** One reply of a server, read until `done` says it is complete, the server closes, or the time is up. */
function readReply(socket: net.Socket, done: (data: Buffer) => boolean, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve) => {
    let data = Buffer.alloc(0);
    const finish = () => {
      clearTimeout(timer);
      socket.removeAllListeners("data");
      resolve(data);
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (done(data)) finish();
    });
    socket.once("close", finish);
    socket.once("error", finish);
  });
}

function connect(target: ProbeTarget): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.address, port: target.port, localAddress: target.source });
    socket.setTimeout(target.timeoutMs ?? 5000, () => socket.destroy(new Error("timed out")));
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** TLS over `socket`, the certificate verified against `ca` for the IP address itself (no SNI for an IP). */
function startTls(socket: net.Socket, address: string, ca: string): Promise<{ socket: tls.TLSSocket } | { error: string }> {
  return new Promise((resolve) => {
    const secure = tls.connect({ socket, ca, host: address, checkServerIdentity: tls.checkServerIdentity });
    secure.once("secureConnect", () => resolve({ socket: secure }));
    secure.once("error", (error) => resolve({ error: error.message }));
  });
}

const pgComplete = (data: Buffer) => data.length >= 5 && data.length >= 1 + data.readInt32BE(1);

function pgAnswer(reply: Buffer): string {
  if (reply.length === 0) return "closed";
  const kind = String.fromCharCode(reply[0]);
  if (kind === "R") return "auth requested";
  if (kind === "E" && reply.length >= 5) {
    const fields = errorFields(reply.subarray(5, 1 + reply.readInt32BE(1)));
    const message = fields.get("M") ?? "";
    return /no pg_hba\.conf entry/.test(message) ? `hba refused: ${message}` : `error ${fields.get("C") ?? "?"}: ${message}`;
  }
  return `unexpected reply ${JSON.stringify(reply.subarray(0, 16).toString("latin1"))}`;
}

/** One TCP connection to `target` for `body`, closed after it; a connection that fails is the answer. */
async function withConnection(target: ProbeTarget, body: (socket: net.Socket, timeoutMs: number) => Promise<ProbeAnswer>): Promise<ProbeAnswer> {
  let socket: net.Socket;
  try {
    socket = await connect(target);
  } catch (error) {
    return { tlsVerified: false, said: `no connection: ${(error as Error).message}` };
  }
  try {
    return await body(socket, target.timeoutMs ?? 5000);
  } finally {
    socket.destroy();
  }
}

/** Postgres as a client without credentials: with `ca`, SSLRequest then TLS, else the plain protocol. */
export function probePostgres(target: ProbeTarget, ca?: string): Promise<ProbeAnswer> {
  return withConnection(target, async (socket, timeoutMs) => {
    if (ca === undefined) {
      socket.write(startupMessage());
      return { tlsVerified: false, said: pgAnswer(await readReply(socket, pgComplete, timeoutMs)) };
    }
    const localAddress = socket.localAddress;
    socket.write(SSL_REQUEST);
    const answer = await readReply(socket, (data) => data.length >= 1, timeoutMs);
    if (answer.toString("latin1") !== "S") return { tlsVerified: false, said: answer.length === 0 ? "closed" : `no TLS offered (${JSON.stringify(answer.toString("latin1"))})` };
    const secured = await startTls(socket, target.address, ca);
    if ("error" in secured) return { tlsVerified: false, said: `TLS failed: ${secured.error}` };
    secured.socket.write(startupMessage());
    const said = pgAnswer(await readReply(secured.socket, pgComplete, timeoutMs));
    secured.socket.destroy();
    return { tlsVerified: true, said, localAddress };
  });
}

/** Redis as a client without credentials: PING over TLS with `ca`, else in the plain protocol. */
export function probeRedis(target: ProbeTarget, ca?: string): Promise<ProbeAnswer> {
  const firstLine = (data: Buffer) => data.includes(0x0a);
  return withConnection(target, async (socket, timeoutMs) => {
    if (ca === undefined) {
      socket.write("PING\r\n");
      const reply = await readReply(socket, firstLine, timeoutMs);
      return { tlsVerified: false, said: reply.length === 0 ? "closed" : JSON.stringify(reply.toString("latin1").slice(0, 60)) };
    }
    const localAddress = socket.localAddress;
    const secured = await startTls(socket, target.address, ca);
    if ("error" in secured) return { tlsVerified: false, said: `TLS failed: ${secured.error}` };
    secured.socket.write("PING\r\n");
    const reply = (await readReply(secured.socket, firstLine, timeoutMs)).toString("utf8").trim();
    secured.socket.destroy();
    return { tlsVerified: true, said: reply === "" ? "closed" : reply, localAddress };
  });
}

/**
 * The local address the route to `address` picks, without sending anything (a UDP socket's
 * connect only binds it): who this client is when no connection came about.
 */
export function localAddressFor(address: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(net.isIPv6(address) ? "udp6" : "udp4");
    socket.once("error", () => {
      socket.close();
      resolve(undefined);
    });
    socket.connect(9, address, () => {
      const local = socket.address().address;
      socket.close();
      resolve(local);
    });
  });
}
