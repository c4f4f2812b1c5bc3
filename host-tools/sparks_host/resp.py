"""A minimal Redis client (RESP2 over TLS or plain TCP, AUTH with an ACL user).

Why not redis-cli: on the fork path every process start costs tens of milliseconds, and spark-redis
talks to a server three times per fork (appendfsync on the source, back, and the copy's first PING).
"""

from __future__ import annotations

import socket
import ssl


class RespError(Exception):
    """The server answered with an error reply (`-ERR ...`, `-NOAUTH ...`, `-WRONGPASS ...`)."""


class NotRunning(Exception):
    """Nothing listens on the port: the server is stopped (or has not bound it yet)."""


def encode(*args: str | bytes | int) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode("utf-8")
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class Connection:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.reader = sock.makefile("rb")

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.reader.close()
        self.sock.close()

    def _line(self) -> bytes:
        line = self.reader.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("the server closed the connection")
        return line[:-2]

    def _reply(self) -> object:
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode("utf-8", "replace")
        if kind == b"-":
            raise RespError(rest.decode("utf-8", "replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.reader.read(n + 2)
            if len(data) != n + 2:
                raise ConnectionError("the server closed the connection")
            return data[:-2].decode("utf-8", "replace")
        if kind == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self._reply() for _ in range(n)]
        raise ConnectionError(f"unexpected reply {line[:40]!r}")

    def command(self, *args: str | bytes | int) -> object:
        self.sock.sendall(encode(*args))
        return self._reply()


def connect(host: str, port: int, user: str | None = None, password: str | None = None, timeout: float = 30.0,
            cafile: str | None = None) -> Connection:
    """Connects (over TLS when `cafile` is given: the server's certificate must be that CA's and name
    `host`, an IP address), then AUTH as `user` when given. Raises NotRunning when the port refuses."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except ConnectionRefusedError:
        raise NotRunning(f"nothing listens on {host}:{port}")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if cafile is not None:
        try:
            sock = ssl.create_default_context(cafile=cafile).wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
    conn = Connection(sock)
    if user is not None:
        try:
            conn.command("AUTH", user, password or "")
        except BaseException:
            conn.close()
            raise
    return conn
