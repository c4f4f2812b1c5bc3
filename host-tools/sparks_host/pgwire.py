"""A minimal PostgreSQL client (protocol 3.0, simple queries, Unix socket, peer auth).

Why not psql: on the fork path every process start costs tens of milliseconds, and spark-pg talks to
a server twice per fork (CHECKPOINT on the source, credentials in the copy). Peer authentication
reads the connecting socket's credentials, which the kernel takes from the effective uid at
connect(): root switches its effective uid to postgres for the connect() only.
"""

from __future__ import annotations

import os
import socket
import struct

PROTOCOL_3_0 = 196608


class PgError(Exception):
    """The server refused a connection or a statement; `sqlstate` is the SQLSTATE code."""

    def __init__(self, message: str, sqlstate: str = ""):
        super().__init__(message)
        self.sqlstate = sqlstate


class NotRunning(Exception):
    """Nothing listens on the socket: the server is stopped (or has not created its socket yet)."""


def _error_text(payload: bytes) -> tuple[str, str]:
    fields = {}
    for part in payload.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode("utf-8", "replace")
    message = fields.get("M", "unknown error")
    if "D" in fields:
        message += f" ({fields['D']})"
    return f"{fields.get('S', 'ERROR')}: {message}", fields.get("C", "")


class Connection:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = b""

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise PgError("server closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _message(self) -> tuple[str, bytes]:
        kind, length = struct.unpack("!cI", self._read(5))
        return kind.decode("ascii"), self._read(length - 4)

    def _until_ready(self, startup: bool = False) -> list[list[str | None]]:
        rows: list[list[str | None]] = []
        error: tuple[str, str] | None = None
        while True:
            kind, payload = self._message()
            if kind == "D":
                (count,), pos, row = struct.unpack_from("!H", payload), 2, []
                for _ in range(count):
                    (size,) = struct.unpack_from("!i", payload, pos)
                    pos += 4
                    row.append(None if size < 0 else payload[pos:pos + size].decode("utf-8"))
                    pos += max(size, 0)
                rows.append(row)
            elif kind == "T":
                rows = []  # a new result set: keep the last statement's rows
            elif kind == "E":
                if startup:  # the server closes the connection right after a startup error
                    raise PgError(*_error_text(payload))
                error = error or _error_text(payload)
            elif kind == "R":
                (code,) = struct.unpack_from("!I", payload)
                if code != 0:
                    raise PgError(f"server asks for authentication method {code}; expected peer authentication")
            elif kind == "Z":
                if error:
                    raise PgError(*error)
                return rows
            # 'S' parameter status, 'K' key data, 'N' notice, 'C' command complete, 'I' empty: nothing to do

    def query(self, sql: str) -> list[list[str | None]]:
        """One simple-protocol Query message (several statements run as one implicit transaction);
        returns the rows of the last result."""
        body = sql.encode("utf-8") + b"\0"
        self.sock.sendall(b"Q" + struct.pack("!I", len(body) + 4) + body)
        return self._until_ready()

    def close(self) -> None:
        try:
            self.sock.sendall(b"X" + struct.pack("!I", 4))
        except OSError:
            pass
        self.sock.close()

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(socket_dir: str, port: int, user: str, database: str, as_uid: int | None = None, as_gid: int | None = None,
            timeout: float = 600.0, application_name: str = "spark-pg") -> Connection:
    path = os.path.join(socket_dir, f".s.PGSQL.{port}")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        if as_uid is not None:
            os.setegid(as_gid if as_gid is not None else os.getegid())
            os.seteuid(as_uid)
        try:
            sock.connect(path)
        finally:
            if as_uid is not None:
                os.seteuid(0)
                os.setegid(0)
    except (FileNotFoundError, ConnectionRefusedError) as e:
        sock.close()
        raise NotRunning(f"nothing listens on {path}") from e
    except OSError:
        sock.close()
        raise
    params = b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in
                      (("user", user), ("database", database), ("application_name", application_name))) + b"\0"
    sock.sendall(struct.pack("!II", len(params) + 8, PROTOCOL_3_0) + params)
    conn = Connection(sock)
    try:
        conn._until_ready(startup=True)
    except BaseException:
        sock.close()
        raise
    return conn
