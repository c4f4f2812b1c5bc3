"""Generic machinery of the Sparks host tools (spark-pg, later spark-redis).

An *instance* is one btrfs subvolume `<root>/NAME` holding everything the service needs, run by
the systemd template `<tool>@.service` as `<tool>@NAME.service`, with its own port from a pool and
its own password in `/etc/sparks/<tool>/NAME.password`. This module knows nothing about Postgres:
`Service` implements every verb and calls the hooks a concrete service (pg.py) provides.

Stdlib only: the tools run on a bare Debian bookworm host (python3.11).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import fcntl
import grp
import json
import os
import pwd
import re
import signal
import stat
import struct
import subprocess
import sys
import time

# Type names for annotations only (never evaluated: `from __future__ import annotations`); no
# `typing` import, every millisecond of start-up counts on the fork path.
Any = Callable = object

# Exit codes scripts can rely on.
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_EXISTS = 4
EXIT_POOL_EXHAUSTED = 5
EXIT_NO_SPACE = 6

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
# Paths end up in unit files and command lines: keep them boring.
PATH_RE = re.compile(r"^/[A-Za-z0-9._/-]{1,200}$")
DURATION_RE = re.compile(r"^(?:\d+[smhd])+$")
DURATION_PART_RE = re.compile(r"(\d+)([smhd])")
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

ORIGIN_TAG = "origin"
SNAPSHOTS_DIR = ".snapshots"
RECORD_FILE = "instance.json"
SYSTEMD_DIR = "/etc/systemd/system"
SECRETS_BASE = "/etc/sparks"
BTRFS_SUPER_MAGIC = 0x9123683E
BTRFS_FIRST_FREE_OBJECTID = 256
# _IOWR(0x94, 18, struct btrfs_ioctl_ino_lookup_args) and _IOW(0x94, 23, struct btrfs_ioctl_vol_args_v2),
# both 4096-byte arguments (linux/btrfs.h).
BTRFS_IOC_INO_LOOKUP = (3 << 30) | (4096 << 16) | (0x94 << 8) | 18
BTRFS_IOC_SNAP_CREATE_V2 = (1 << 30) | (4096 << 16) | (0x94 << 8) | 23
BTRFS_SUBVOL_RDONLY = 1 << 1
BTRFS_SUBVOL_NAME_MAX = 4039
WANTED_BY = "multi-user.target"
LOCK_WAIT_SECONDS = 300
# Overrides LOCK_WAIT_SECONDS for one command (a unit's drop-in, a test): how long to wait for the lock.
LOCK_WAIT_ENV = "SPARKS_LOCK_WAIT_SECONDS"


def lock_wait_seconds() -> float:
    value = os.environ.get(LOCK_WAIT_ENV)
    if value is None:
        return LOCK_WAIT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1
    if not seconds > 0:
        raise ToolError(f"{LOCK_WAIT_ENV}={value!r}: expected a number of seconds above 0", EXIT_USAGE)
    return seconds


class ToolError(Exception):
    """A failure reported to the caller as `<tool>: error: MESSAGE` with a documented exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILURE):
        super().__init__(message)
        self.code = code


def say(tool: str, message: str) -> None:
    print(f"{tool}: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Small pure helpers


def validate_name(name: str, what: str = "instance name", reserved: frozenset[str] = frozenset()) -> str:
    if not NAME_RE.match(name):
        raise ToolError(f"invalid {what} {name!r}: must match {NAME_RE.pattern}", EXIT_USAGE)
    if name in reserved:
        raise ToolError(f"invalid {what} {name!r}: reserved ({', '.join(sorted(reserved))} are taken)", EXIT_USAGE)
    return name


def validate_tag(tag: str) -> str:
    if not TAG_RE.match(tag):
        raise ToolError(f"invalid snapshot tag {tag!r}: must match {TAG_RE.pattern}", EXIT_USAGE)
    return tag


def parse_duration(text: str) -> int:
    """'30m', '2h', '1d', '1h30m' (and '45s', for tests) -> seconds."""
    if not DURATION_RE.match(text):
        raise ToolError(f"invalid --ttl {text!r}: expected a duration like 30m, 2h, 1d or 1h30m (units s, m, h, d)", EXIT_USAGE)
    seconds = sum(int(n) * DURATION_UNITS[u] for n, u in DURATION_PART_RE.findall(text))
    if seconds <= 0:
        raise ToolError(f"invalid --ttl {text!r}: must be longer than zero", EXIT_USAGE)
    if seconds > 366 * 86400:
        raise ToolError(f"invalid --ttl {text!r}: at most 366d", EXIT_USAGE)
    return seconds


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def iso(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def human_bytes(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def new_password() -> str:
    # URL-safe alphabet: the password goes verbatim into a postgresql:// URI.
    return base64.urlsafe_b64encode(os.urandom(24)).decode("ascii")


# ---------------------------------------------------------------------------------------------
# Config


class Option:
    def __init__(self, kind: type, required: bool = True, default: Any = None, check: Callable | None = None):
        self.kind, self.required, self.default, self.check = kind, required, default, check


def load_config(path: str, schema: dict[str, Option]) -> dict[str, Any]:
    """Reads a JSON object and checks it against `schema`; every problem is named by its key."""
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except FileNotFoundError:
        raise ToolError(f"config file {path} is missing (the component that installs this tool writes it)")
    except (OSError, ValueError) as e:
        raise ToolError(f"config file {path} is unreadable: {e}")
    if not isinstance(raw, dict):
        raise ToolError(f"config file {path}: expected a JSON object")
    problems = [f"unknown key {key!r}" for key in raw if key not in schema]
    config: dict[str, Any] = {}
    for key, opt in schema.items():
        if key not in raw:
            if opt.required:
                problems.append(f"{key}: is required")
            config[key] = opt.default
            continue
        value = raw[key]
        if isinstance(value, bool) and opt.kind is not bool or not isinstance(value, opt.kind):
            problems.append(f"{key}: expected {getattr(opt.kind, '__name__', opt.kind)}, found {json.dumps(value)}")
            continue
        if opt.check and (problem := opt.check(value)):
            problems.append(f"{key}: {problem}")
            continue
        config[key] = value
    if problems:
        raise ToolError(f"config file {path} is invalid: " + "; ".join(problems))
    return config


def check_root_path(value: str) -> str | None:
    return None if PATH_RE.match(value) and ".." not in value.split("/") else f"must be an absolute path matching {PATH_RE.pattern}"


def check_listen(value: str) -> str | None:
    import socket

    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            packed = socket.inet_pton(family, value)
        except OSError:
            continue
        # A wildcard opens every interface, and its pg_hba rule would match no client.
        return f"must be a concrete address, not the wildcard {value!r}" if not any(packed) else None
    return f"must be one IP address, found {value!r}"


def check_clients(value: list) -> str | None:
    """Client networks: each a CIDR without host bits (the stack config refused the rest by path)."""
    import ipaddress

    for item in value:
        try:
            if not isinstance(item, str) or "/" not in item:
                raise ValueError(item)
            ipaddress.ip_network(item, strict=True)
        except ValueError:
            return f"must be a list of networks ADDRESS/PREFIX without host bits, found {item!r}"
    return None


def check_port_pool(value: list) -> str | None:
    if len(value) != 2 or not all(isinstance(p, int) and not isinstance(p, bool) for p in value):
        return "must be [first, last]"
    lo, hi = value
    if not 1024 <= lo <= hi <= 65535:
        return f"must be [first, last] with 1024 <= first <= last <= 65535, found {value}"
    return None


def check_positive(value: int) -> str | None:
    return None if value >= 0 else "must be >= 0"


# ---------------------------------------------------------------------------------------------
# Processes


def run(argv: list[str], *, input: str | None = None, user: str | None = None, check: bool = True,
        env: dict[str, str] | None = None, what: str | None = None, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Runs a command, capturing its output; a failure raises ToolError naming the command and its stderr."""
    kwargs: dict[str, Any] = {}
    if user is not None:
        pw = pwd.getpwnam(user)
        # Not runuser/su: no PAM session, so a few ms instead of tens.
        kwargs.update(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[], cwd="/")
    base_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8"}
    try:
        proc = subprocess.run(argv, input=input, capture_output=True, text=True, env={**base_env, **(env or {})},
                              timeout=timeout, **kwargs)
    except FileNotFoundError:
        raise ToolError(f"{argv[0]} is not installed")
    except subprocess.TimeoutExpired:
        raise ToolError(f"{what or argv[0]} did not finish within {timeout} s")
    if check and proc.returncode != 0:
        detail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-8:]
        message = f"{what or ' '.join(argv[:3])} failed (exit {proc.returncode})" + (": " + " | ".join(detail) if detail else "")
        raise ToolError(message, EXIT_NO_SPACE if "No space left on device" in message else EXIT_FAILURE)
    return proc


# ---------------------------------------------------------------------------------------------
# Files


def write_atomic(path: str, content: str, mode: int = 0o644, owner: str = "root", group: str = "root",
                 sync: bool = True) -> bool:
    """Writes via a temp file + rename; returns whether the content or mode changed. `sync=False` for
    files whose durability comes from a later sync of the whole filesystem."""
    try:
        st = os.stat(path)
        with open(path, encoding="utf-8") as f:
            if f.read() == content and (st.st_mode & 0o7777) == mode and st.st_uid == pwd.getpwnam(owner).pw_uid \
                    and st.st_gid == grp.getgrnam(group).gr_gid:
                return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    tmp = f"{path}.tmp-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchown(fd, pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid)
        os.fchmod(fd, mode)
        os.write(fd, content.encode("utf-8"))
        if sync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    os.rename(tmp, path)
    return True


def remove_file(path: str) -> bool:
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False


def read_json(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def ensure_dir(path: str, mode: int, owner: str = "root", group: str = "root") -> bool:
    changed = False
    if not os.path.isdir(path):
        os.makedirs(path, mode=mode, exist_ok=True)
        changed = True
    st = os.stat(path)
    uid, gid = pwd.getpwnam(owner).pw_uid, grp.getgrnam(group).gr_gid
    if (st.st_mode & 0o7777) != mode:
        os.chmod(path, mode)
        changed = True
    if (st.st_uid, st.st_gid) != (uid, gid):
        os.chown(path, uid, gid)
        changed = True
    return changed


# ---------------------------------------------------------------------------------------------
# Locking, cleanup, timings


# Root-only, unlike /run/lock (1777): no other user can create, hold or swap a tool's lock file.
LOCK_DIR = "/run/sparks/locks"


def root_only_dirs(*paths: str) -> None:
    """Makes each path a directory only root can write, or refuses one that is something else."""
    for path in paths:
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, 0o700)
        st = os.lstat(path)
        if not (stat.S_ISDIR(st.st_mode) and st.st_uid == 0 and st.st_mode & 0o022 == 0):
            raise ToolError(f"{path} is not a directory only root can write (uid {st.st_uid}, mode {st.st_mode & 0o7777:o}); "
                            "refusing to take a lock in it")


def open_lock_file(path: str) -> int:
    """The lock file, never through a link, and only when it is root's regular file."""
    lock_dir = os.path.dirname(path)
    root_only_dirs(os.path.dirname(lock_dir), lock_dir)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    st = os.fstat(fd)
    if st.st_uid != 0 or not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise ToolError(f"{path} is not root's regular file; refusing to lock with it")
    return fd


class ServiceLock:
    """One flock per tool: every verb that changes instances holds it, so two forks of one source
    (or a fork and the expiry timer's destroy) run one after the other and never pick the same port."""

    def __init__(self, path: str, tool: str):
        self.path, self.tool = path, tool
        self.fd: int | None = None
        self.depth = 0

    def __enter__(self) -> "ServiceLock":
        if self.depth == 0:
            wait = lock_wait_seconds()
            fd = open_lock_file(self.path)
            deadline = time.monotonic() + wait
            told = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        os.close(fd)
                        raise ToolError(f"another {self.tool} command held {self.path} for {wait:g} s; giving up")
                    if not told:
                        say(self.tool, f"waiting for another {self.tool} command to finish ({self.path})")
                        told = True
                    time.sleep(0.05)
            self.fd = fd
        self.depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self.depth -= 1
        if self.depth == 0 and self.fd is not None:
            os.close(self.fd)  # closing releases the flock
            self.fd = None


class Undo:
    """Cleanup-on-failure: each step that creates something pushes how to remove it; leaving the
    block with an exception runs them newest first, then re-raises. `commit()` keeps everything."""

    def __init__(self, tool: str):
        self.tool = tool
        self.steps: list[tuple[str, Callable[[], object]]] = []

    def push(self, what: str, action: Callable[[], object]) -> None:
        self.steps.append((what, action))

    def commit(self) -> None:
        self.steps.clear()

    def __enter__(self) -> "Undo":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.steps.clear()
            return False
        if self.steps:
            say(self.tool, "failed; removing what was created")
        for what, action in reversed(self.steps):
            try:
                action()
            except Exception as e:  # keep undoing: one failed step must not leave the rest behind
                say(self.tool, f"warning: cleanup step '{what}' failed: {e}")
        self.steps.clear()
        return False


class Timings:
    """Wall-clock per step, for `--timings` and the `timings_ms` field of fork/new/reset/rollback."""

    def __init__(self, tool: str, verbose: bool):
        self.tool, self.verbose = tool, verbose
        self.start = self.last = time.monotonic()
        self.steps: dict[str, int] = {}

    def mark(self, step: str) -> None:
        now = time.monotonic()
        ms = round((now - self.last) * 1000)
        self.steps[step] = self.steps.get(step, 0) + ms
        self.last = now
        if self.verbose:
            say(self.tool, f"timing: {step:<22} {ms:6d} ms  (total {round((now - self.start) * 1000)} ms)")

    def total_ms(self) -> int:
        return round((time.monotonic() - self.start) * 1000)

    def as_dict(self) -> dict[str, int]:
        return {**self.steps, "total": self.total_ms()}


def raise_on_signals() -> None:
    """SIGTERM/SIGHUP (a killed ssh session, a systemd stop) unwind like an error, so Undo runs."""

    def handler(signum: int, _frame: object) -> None:
        raise ToolError(f"interrupted by {signal.Signals(signum).name}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


# ---------------------------------------------------------------------------------------------
# Host: ports, btrfs, systemd


def listening_tcp_ports() -> set[int]:
    """Ports in LISTEN state on any address, from /proc/net/tcp{,6} (this network namespace)."""
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    cols = line.split()
                    if len(cols) > 3 and cols[3] == "0A":
                        ports.add(int(cols[1].rsplit(":", 1)[1], 16))
        except FileNotFoundError:
            continue
    return ports


def read_ephemeral_ports() -> tuple[range, set[int]]:
    """The ports this network namespace gives outgoing connections, and those reserved out of them."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        first, last = (int(p) for p in f.read().split())
    reserved: set[int] = set()
    with open("/proc/sys/net/ipv4/ip_local_reserved_ports") as f:
        for part in filter(None, f.read().strip().split(",")):
            a, _, b = part.partition("-")
            reserved.update(range(int(a), int(b or a) + 1))
    return range(first, last + 1), reserved


def check_pool_outside_ephemeral(pool: list[int], ephemeral: range, reserved: set[int]) -> None:
    """Any outgoing connection can take a port of the ephemeral range, and a service that starts
    later then fails to bind it: a pool must lie outside that range or be reserved out of it."""
    lo, hi = pool
    exposed = [p for p in range(max(lo, ephemeral.start), min(hi, ephemeral.stop - 1) + 1) if p not in reserved]
    if exposed:
        raise ToolError(f"ports: the pool {lo}-{hi} overlaps this host's ephemeral port range "
                        f"{ephemeral.start}-{ephemeral.stop - 1} (net.ipv4.ip_local_port_range) at {exposed[0]}-{exposed[-1]}, "
                        "where any outgoing connection can take a port; choose a pool outside it, "
                        "or reserve the pool in net.ipv4.ip_local_reserved_ports")


def allocate_port(pool: list[int], taken: set[int]) -> int:
    check_pool_outside_ephemeral(pool, *read_ephemeral_ports())
    lo, hi = pool
    busy = taken | listening_tcp_ports()
    for port in range(lo, hi + 1):
        if port not in busy:
            return port
    raise ToolError(f"port pool {lo}-{hi} is exhausted: every port is used by an instance or bound on the host",
                    EXIT_POOL_EXHAUSTED)


class Btrfs:
    @staticmethod
    def is_btrfs(path: str) -> bool:
        # statfs has no stdlib wrapper; `stat -f` is coreutils.
        out = run(["stat", "-f", "-c", "%t", path], what=f"stat -f {path}").stdout.strip()
        return int(out, 16) == BTRFS_SUPER_MAGIC

    @staticmethod
    def is_subvolume(path: str) -> bool:
        try:
            return os.lstat(path).st_ino == BTRFS_FIRST_FREE_OBJECTID and os.path.isdir(path)
        except FileNotFoundError:
            return False

    @staticmethod
    def subvolume_id(path: str) -> int:
        """The subvolume's id (its qgroup is 0/<id>), by the unprivileged INO_LOOKUP ioctl."""
        buf = bytearray(struct.pack("=QQ", 0, BTRFS_FIRST_FREE_OBJECTID) + bytes(4080))
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.ioctl(fd, BTRFS_IOC_INO_LOOKUP, buf, True)
        finally:
            os.close(fd)
        return struct.unpack_from("=Q", buf)[0]

    @staticmethod
    def create(path: str) -> None:
        run(["btrfs", "subvolume", "create", path], what=f"btrfs subvolume create {path}")

    @staticmethod
    def snapshot(source: str, dest: str, readonly: bool) -> None:
        """`btrfs subvolume snapshot [-r]` as one ioctl: no process start on the fork path."""
        parent, name = os.path.split(dest.rstrip("/"))
        encoded = name.encode()
        if not encoded or len(encoded) > BTRFS_SUBVOL_NAME_MAX or "/" in name:
            raise ToolError(f"invalid snapshot name {name!r}")
        src_fd = os.open(source, os.O_RDONLY | os.O_DIRECTORY)
        try:
            dir_fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                args = struct.pack("=qQQ32s4040s", src_fd, 0, BTRFS_SUBVOL_RDONLY if readonly else 0, b"", encoded)
                # A mutable buffer: an immutable ioctl argument is limited to 1024 bytes.
                fcntl.ioctl(dir_fd, BTRFS_IOC_SNAP_CREATE_V2, bytearray(args), True)
            finally:
                os.close(dir_fd)
        except OSError as e:
            code = EXIT_NO_SPACE if e.errno == 28 else EXIT_FAILURE
            raise ToolError(f"btrfs snapshot {source} -> {dest} failed: {e.strerror}", code)
        finally:
            os.close(src_fd)

    @staticmethod
    def delete(path: str) -> bool:
        if not os.path.lexists(path):
            return False
        if not Btrfs.is_subvolume(path):
            raise ToolError(f"{path} is not a btrfs subvolume; refusing to delete it")
        run(["btrfs", "subvolume", "delete", path], what=f"btrfs subvolume delete {path}")
        return True

    @staticmethod
    def qgroup_limits(root: str) -> dict[int, tuple[int, int, int | None]] | None:
        """{subvolume id: (referenced, exclusive, exclusive limit or None)} in bytes, or None when quotas are off."""
        proc = run(["btrfs", "qgroup", "show", "-re", "--raw", root], check=False)
        if proc.returncode != 0:
            if "not enabled" in proc.stderr or "quotas not enabled" in proc.stderr.lower():
                return None
            raise ToolError(f"btrfs qgroup show {root} failed: {proc.stderr.strip()}")
        found: dict[int, tuple[int, int, int | None]] = {}
        for line in proc.stdout.splitlines():
            # qgroupid rfer excl max_rfer max_excl [path]
            cols = line.split()
            if len(cols) >= 5 and re.match(r"^0/\d+$", cols[0]) and cols[1].isdigit() and cols[2].isdigit():
                found[int(cols[0].split("/")[1])] = (int(cols[1]), int(cols[2]), int(cols[4]) if cols[4].isdigit() else None)
        return found

    @staticmethod
    def limit_exclusive(path: str, limit: int) -> None:
        """What the subvolume may hold that it shares with no other (a fork's own writes), at most."""
        run(["btrfs", "qgroup", "limit", "-e", str(limit), path])

    @staticmethod
    def free_bytes(path: str) -> int:
        st = os.statvfs(path)
        return st.f_bavail * st.f_frsize


class Systemd:
    @staticmethod
    def ctl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        return run(["systemctl", *args], check=check, what=f"systemctl {' '.join(args)}")

    @staticmethod
    def daemon_reload() -> None:
        Systemd.ctl("daemon-reload")

    @staticmethod
    def start(unit: str) -> None:
        Systemd.ctl("start", unit)

    @staticmethod
    def stop(unit: str) -> None:
        Systemd.ctl("stop", unit)
        Systemd.ctl("reset-failed", unit, check=False)

    @staticmethod
    def wants_link(unit: str) -> str:
        return os.path.join(SYSTEMD_DIR, f"{WANTED_BY}.wants", unit)

    @staticmethod
    def enable(unit: str, template: str) -> bool:
        """What `systemctl --no-reload enable` does for a template instance with WantedBy=multi-user.target:
        one symlink, read at the next boot; no reload needed (the template is loaded). Without the
        40 ms of a systemctl process."""
        link = Systemd.wants_link(unit)
        if os.path.islink(link):
            return False
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(os.path.join(SYSTEMD_DIR, template), link)
        return True

    @staticmethod
    def disable(unit: str) -> bool:
        return remove_file(Systemd.wants_link(unit))

    @staticmethod
    def show(units: list[str]) -> dict[str, dict[str, str]]:
        """{unit: {ActiveState, UnitFileState, MainPID, ...}} for many units in one call."""
        if not units:
            return {}
        out = Systemd.ctl("show", "-p", "Id,ActiveState,SubState,UnitFileState,MainPID", *units).stdout
        result: dict[str, dict[str, str]] = {}
        for block, unit in zip(out.strip().split("\n\n"), units):
            props = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
            result[unit] = props
        return result

    @staticmethod
    def journal_tail(unit: str, lines: int = 6) -> str:
        proc = run(["journalctl", "-u", unit, "-n", str(lines), "--no-pager", "-o", "cat"], check=False)
        return " | ".join(l for l in proc.stdout.strip().splitlines() if l)


# ---------------------------------------------------------------------------------------------
# The service: every verb, generic over the hooks below.


class Image:
    """A subvolume to make an instance from: its path and the role (credentials) it carries."""

    def __init__(self, path: str, role: str):
        self.path, self.role = path, role


class Context:
    def __init__(self, timings: Timings):
        self.timings = timings


class Service:
    # Set by the concrete service.
    tool = "spark-x"
    description = ""
    client_name = "client"
    reserved_names: frozenset[str] = frozenset()
    schema: dict[str, Option] = {}
    # Runs the server, owns its data; its group (same name, as the Debian packages make them) reads the instances.
    server_user = "root"

    def __init__(self, config_path: str | None = None, timings: bool = False):
        self.config_path = config_path or os.environ.get(f"{self.tool.upper().replace('-', '_')}_CONFIG") \
            or f"{SECRETS_BASE}/{self.tool}.json"
        self.show_timings = timings
        self._config: dict[str, Any] | None = None
        self.lock = ServiceLock(f"{LOCK_DIR}/{self.tool}.lock", self.tool)

    # --- hooks a service implements -----------------------------------------------------------

    def render_unit(self) -> str:
        raise NotImplementedError

    def check_installed(self) -> None:
        """Raises ToolError when the service's packages are missing."""

    def initialize(self, path: str, record: dict[str, Any]) -> None:
        """Fills a fresh, empty subvolume (new)."""
        raise NotImplementedError

    def bootstrap_credentials(self, record: dict[str, Any], password: str) -> None:
        """After the first start of a new instance: create its role/database."""
        raise NotImplementedError

    def quiesce(self, record: dict[str, Any]) -> bool:
        """Before a snapshot: make the crash image of a running instance cheap to recover. Returns
        False when the instance is not running (nothing to do); raises ToolError when it could not."""
        return False

    # True when a snapshot without a successful quiesce would break the service's fork guarantee.
    quiesce_required = False

    def release(self, record: dict[str, Any]) -> None:
        """After the snapshot that a successful quiesce preceded (failed or not): undo what quiesce changed."""

    def main_pid(self, path: str) -> int | None:
        """The running server's PID as the instance's files tell it, for status after a change."""
        return None

    def clean_runtime(self, path: str) -> None:
        """Remove a copied image's runtime files (pid files...)."""

    def configure(self, path: str, record: dict[str, Any]) -> bool:
        """Write the instance's own port/listen/auth/TLS settings into its subvolume; whether they changed."""
        raise NotImplementedError

    def adopt_credentials(self, record: dict[str, Any], image_role: str, password: str) -> None:
        """After starting a copy: take over the image's role under the instance's name and password."""
        raise NotImplementedError

    def client_argv(self, record: dict[str, Any], password: str, extra: list[str]) -> tuple[list[str], dict[str, str]]:
        raise NotImplementedError

    def client_env(self, record: dict[str, Any], password: str) -> dict[str, str]:
        """The connection to the instance as environment variables, the password among them: never on a command line."""
        raise NotImplementedError

    def program_path(self, program: str) -> str:
        """Where `connect --run` finds PROGRAM: a path as given, else on PATH."""
        if "/" in program:
            return program
        import shutil

        found = shutil.which(program)
        if found is None:
            raise ToolError(f"connect --run: no program {program!r} on PATH", EXIT_USAGE)
        return found

    def uri(self, record: dict[str, Any], password: str) -> str:
        raise NotImplementedError

    def reload_tls(self) -> list[str]:
        """Makes every running instance serve the host's current certificate; one line per instance."""
        raise NotImplementedError

    def record_defaults(self, name: str) -> dict[str, Any]:
        return {"role": name}

    # --- what every service's hooks share ------------------------------------------------------------

    def instance_unit(self, layout: str, description: str, service: str) -> str:
        """The templated unit of every instance: `service` holds the lines that run this tool's server
        (Type=notify among them); the unit waits for the root's mount and restarts a failed server."""
        return f"""# Written by {self.tool} setup. {layout}
[Unit]
Description={description}
Wants=network-online.target
After=network-online.target
RequiresMountsFor={self.root}

[Service]
{service}# The server key is root:sparks-tls 0640 (sparks_host/tls.py).
SupplementaryGroups=sparks-tls
TimeoutStartSec=1h
TimeoutStopSec=10min
Restart=on-failure
RestartSec=2s

[Install]
WantedBy=multi-user.target
"""

    def make_data_dir(self, path: str, name: str, mode: int) -> str:
        """Makes a fresh instance subvolume root:GROUP 0750 and its directory `name` the server user's; returns the latter."""
        uid, gid = pwd.getpwnam(self.server_user).pw_uid, grp.getgrnam(self.server_user).gr_gid
        os.chown(path, 0, gid)
        os.chmod(path, 0o750)
        data = os.path.join(path, name)
        os.mkdir(data, mode)
        os.chown(data, uid, gid)
        return data

    # --- paths and config ----------------------------------------------------------------------

    @property
    def config(self) -> dict[str, Any]:
        if self._config is None:
            self._config = load_config(self.config_path, self.schema)
        return self._config

    @property
    def root(self) -> str:
        return self.config["root"]

    def unit(self, name: str) -> str:
        return f"{self.tool}@{name}.service"

    def timer(self, name: str) -> str:
        return f"{self.tool}-expire@{name}.timer"

    def path(self, name: str) -> str:
        return os.path.join(self.root, name)

    def record_path(self, name: str) -> str:
        return os.path.join(self.root, name, RECORD_FILE)

    def snapshots_dir(self) -> str:
        return os.path.join(self.root, SNAPSHOTS_DIR)

    def snapshot_path(self, name: str, tag: str) -> str:
        return os.path.join(self.snapshots_dir(), f"{name}@{tag}")

    def secrets_dir(self) -> str:
        return os.path.join(SECRETS_BASE, self.tool)

    def secret_path(self, name: str) -> str:
        return os.path.join(self.secrets_dir(), f"{name}.password")

    def service_group(self) -> str:
        return self.server_user

    # --- records ---------------------------------------------------------------------------------

    def names(self) -> list[str]:
        try:
            entries = sorted(os.listdir(self.root))
        except FileNotFoundError:
            raise ToolError(f"instance root {self.root} does not exist (run {self.tool} setup)")
        return [e for e in entries if NAME_RE.match(e) and os.path.isfile(self.record_path(e))]

    def load(self, name: str) -> dict[str, Any]:
        validate_name(name)
        try:
            return read_json(self.record_path(name))
        except FileNotFoundError:
            raise ToolError(f"no instance named {name!r} (see {self.tool} list)", EXIT_NOT_FOUND)

    def save(self, path: str, record: dict[str, Any]) -> None:
        write_atomic(os.path.join(path, RECORD_FILE), json.dumps(record, indent=2) + "\n", 0o644, "root", self.service_group())

    def tags(self, name: str) -> list[str]:
        try:
            entries = os.listdir(self.snapshots_dir())
        except FileNotFoundError:
            return []
        return sorted(e.split("@", 1)[1] for e in entries if e.startswith(f"{name}@"))

    def read_password(self, name: str) -> str:
        try:
            with open(self.secret_path(name), encoding="utf-8") as f:
                return f.read().strip()
        except FileNotFoundError:
            raise ToolError(f"the password file {self.secret_path(name)} of {name!r} is missing")

    def write_password(self, name: str, password: str) -> None:
        write_atomic(self.secret_path(name), password + "\n", 0o640, "root", self.service_group())

    def traces(self, name: str) -> list[str]:
        """Everything on the host that belongs to NAME, complete or left over."""
        found = [p for p in (self.path(name), self.secret_path(name), os.path.join(SYSTEMD_DIR, self.timer(name)))
                 if os.path.lexists(p)]
        found += [self.snapshot_path(name, t) for t in self.tags(name)]
        found += [os.path.join(self.root, e) for e in self._scratch_entries(name)]
        return found

    def _scratch_entries(self, name: str) -> list[str]:
        try:
            return [e for e in os.listdir(self.root) if e.startswith((f".tmp-{name}.", f".old-{name}."))]
        except FileNotFoundError:
            return []

    def require_absent(self, name: str) -> None:
        if os.path.isfile(self.record_path(name)):
            raise ToolError(f"instance {name!r} already exists", EXIT_EXISTS)
        leftovers = self.traces(name)
        if leftovers:  # e.g. a fork killed with SIGKILL, which no cleanup can follow
            raise ToolError(f"leftovers of an unfinished or earlier instance {name!r} remain ({', '.join(leftovers)}); "
                            f"remove them with: {self.tool} destroy {name}", EXIT_EXISTS)

    def require_space(self, new_fork: bool = False) -> None:
        need = self.config["min_free_bytes"]
        free = Btrfs.free_bytes(self.root)
        if free < need:
            raise ToolError(f"not enough disk space on {self.root}: {human_bytes(free)} free, "
                            f"at least {human_bytes(need)} required (min_free_bytes in {self.config_path})", EXIT_NO_SPACE)
        limit = self.config["fork_limit_bytes"]
        if not new_fork or not limit:
            return
        # Every fork may still grow to its limit: a new one must fit beside what the others may yet write.
        limits = Btrfs.qgroup_limits(self.root)
        if limits is None:
            raise ToolError(f"fork_limit_bytes in {self.config_path} needs btrfs quotas on {self.root} (a subvolume limit enables them)")
        # Only this root's instances: a deleted subvolume's qgroup can stay behind, limit and all.
        ids = {Btrfs.subvolume_id(self.path(n)) for n in self.names()}
        promised = sum(max(0, cap - excl) for qgroup, (_, excl, cap) in limits.items() if cap is not None and qgroup in ids)
        if free - promised < need + limit:
            raise ToolError(f"not enough disk space on {self.root} for another fork: {human_bytes(free)} free, "
                            f"{human_bytes(promised)} of it promised to the forks there, a new one needs {human_bytes(limit)} "
                            f"(fork_limit_bytes) beside min_free_bytes {human_bytes(need)}", EXIT_NO_SPACE)

    def allocate_port(self) -> int:
        taken = set()
        for n in self.names():
            with contextlib.suppress(OSError, ValueError, KeyError):
                taken.add(int(read_json(self.record_path(n))["port"]))
        return allocate_port(self.config["ports"], taken)

    def states(self, names: list[str]) -> dict[str, dict[str, str]]:
        shown = Systemd.show([self.unit(n) for n in names])
        return {n: shown.get(self.unit(n), {}) for n in names}

    def is_active(self, name: str) -> bool:
        return self.states([name])[name].get("ActiveState") == "active"

    def is_enabled(self, name: str) -> bool:
        return os.path.islink(Systemd.wants_link(self.unit(name)))

    def enable_instance(self, name: str) -> bool:
        return Systemd.enable(self.unit(name), f"{self.tool}@.service")

    # --- units -----------------------------------------------------------------------------------

    def start_instance(self, name: str) -> None:
        unit = self.unit(name)
        try:
            Systemd.start(unit)
        except ToolError as e:
            raise ToolError(f"{unit} did not start: {Systemd.journal_tail(unit) or e}")

    def stop_instance(self, name: str) -> None:
        Systemd.stop(self.unit(name))

    def install_timer(self, name: str, expires_at: dt.datetime) -> None:
        # A calendar time already past when the timer starts never fires (systemd only looks ahead of
        # the timer's activation; Persistent= covers downtime after that): never write one.
        fire_at = max(expires_at, utc_now() + dt.timedelta(seconds=2))
        when = fire_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        content = (
            f"# Written by {self.tool}: destroys {name} when its TTL ends.\n"
            f"[Unit]\nDescription={self.tool}: expire instance {name} at {when}\n\n"
            f"[Timer]\nOnCalendar={when}\nPersistent=true\nAccuracySec=1s\n"
            f"Unit={self.tool}-expire@{name}.service\n\n"
            f"[Install]\nWantedBy=timers.target\n"
        )
        write_atomic(os.path.join(SYSTEMD_DIR, self.timer(name)), content)
        Systemd.daemon_reload()
        Systemd.ctl("enable", "--now", "--quiet", self.timer(name))

    def remove_timer(self, name: str) -> bool:
        path = os.path.join(SYSTEMD_DIR, self.timer(name))
        if not os.path.lexists(path):
            return False
        Systemd.ctl("disable", "--now", "--quiet", self.timer(name), check=False)
        remove_file(path)
        # Persistent=true keeps the last trigger time here; a later instance of the same name starts fresh.
        remove_file(f"/var/lib/systemd/timers/stamp-{self.timer(name)}")
        Systemd.daemon_reload()
        return True

    def expire_service(self) -> str:
        tool = os.path.realpath(sys.argv[0])
        return (
            f"# Written by {self.tool} setup.\n"
            f"[Unit]\nDescription={self.tool}: destroy expired instance %i\n"
            f"After={self.tool}@%i.service\nRequiresMountsFor={self.root}\n"
            # Retried until it succeeds (a held lock, a volume not mounted yet): a fork past its TTL never stays by accident.
            f"StartLimitIntervalSec=0\n\n"
            f"[Service]\nType=oneshot\nExecStart={tool} destroy %i --expired\nRestart=on-failure\nRestartSec=30\n"
        )

    # --- building an instance from an image --------------------------------------------------

    def _materialize(self, undo: Undo, ctx: Context, image: Image, name: str, dest: str, record: dict[str, Any]) -> None:
        """Writable snapshot of `image` at `dest`, cleaned and configured as `record`."""
        Btrfs.snapshot(image.path, dest, readonly=False)
        undo.push(f"delete {dest}", lambda: Btrfs.delete(dest))
        if record.get("source") and self.config["fork_limit_bytes"]:
            # A fork's own writes are bounded, so no fork can fill the volume under its source.
            Btrfs.limit_exclusive(dest, self.config["fork_limit_bytes"])
        ctx.timings.mark("snapshot")
        self.clean_runtime(dest)
        self.configure(dest, record)
        self.save(dest, record)
        ctx.timings.mark("configure")

    def _snapshot_live(self, ctx: Context, source: str, dest: str) -> None:
        record = read_json(self.record_path(source))
        quiesced = False
        try:
            quiesced = self.quiesce(record)
        except ToolError as e:
            if self.quiesce_required:
                raise ToolError(f"could not prepare {source} for the snapshot, so nothing was copied: {e}")
            # the snapshot is still crash-consistent, only slower to recover
            say(self.tool, f"warning: could not quiesce {source} before the snapshot ({e}); continuing")
        ctx.timings.mark("quiesce source")
        try:
            Btrfs.snapshot(self.path(source), dest, readonly=True)
        finally:
            if quiesced:
                self.release(record)
        ctx.timings.mark("snapshot source")

    def _status_after(self, name: str, ctx: Context) -> dict[str, Any]:
        """Status of an instance this command just started, without asking systemd (40 ms here)."""
        status = self.describe(name, read_json(self.record_path(name)),
                               {"ActiveState": "active", "MainPID": str(self.main_pid(self.path(name)) or 0)}, None)
        del status["size"]  # only `status` reads qgroups; here null would wrongly say "quotas off"
        status["timings_ms"] = ctx.timings.as_dict()
        return status

    # --- verbs -------------------------------------------------------------------------------------

    def new(self, name: str) -> dict[str, Any]:
        validate_name(name, reserved=self.reserved_names)
        self.check_installed()
        ctx = Context(Timings(self.tool, self.show_timings))
        with self.lock, Undo(self.tool) as undo:
            self.require_absent(name)
            self.require_space()
            port = self.allocate_port()
            record = {"name": name, "port": port, **self.record_defaults(name), "source": None,
                      "forked_from_snapshot": None, "created_at": iso(utc_now()), "expires_at": None}
            path = self.path(name)
            Btrfs.create(path)
            undo.push(f"delete {path}", lambda: Btrfs.delete(path))
            self.initialize(path, record)
            self.configure(path, record)
            ctx.timings.mark("initialize")
            password = new_password()
            self.write_password(name, password)
            undo.push("remove password", lambda: remove_file(self.secret_path(name)))
            self._enable_and_start(undo, name)
            ctx.timings.mark("start")
            self.bootstrap_credentials(record, password)
            self.save(path, record)
            ctx.timings.mark("credentials")
            undo.commit()
        return self._status_after(name, ctx)

    def _enable_and_start(self, undo: Undo, name: str) -> None:
        self.enable_instance(name)
        undo.push("disable unit", lambda: Systemd.disable(self.unit(name)))
        undo.push("stop unit", lambda: self.stop_instance(name))
        self.start_instance(name)

    def resolve_image_source(self, spec: str) -> tuple[str, str | None]:
        """'NAME' or 'NAME@TAG' -> (name, tag)."""
        name, _, tag = spec.partition("@")
        validate_name(name, what="source name")
        if tag:
            validate_tag(tag)
        return name, tag or None

    def fork(self, source_spec: str, name: str, ttl: str | None = None) -> dict[str, Any]:
        validate_name(name, reserved=self.reserved_names)
        source, tag = self.resolve_image_source(source_spec)
        ttl_seconds = parse_duration(ttl) if ttl is not None else None
        self.check_installed()
        ctx = Context(Timings(self.tool, self.show_timings))
        with self.lock, Undo(self.tool) as undo:
            self.load(source)  # NOT_FOUND first: a typo in the source is the likelier mistake
            if tag and not Btrfs.is_subvolume(self.snapshot_path(source, tag)):
                raise ToolError(f"instance {source!r} has no snapshot {tag!r} (tags: {', '.join(self.tags(source)) or 'none'})", EXIT_NOT_FOUND)
            self.require_absent(name)
            self.require_space(new_fork=True)
            port = self.allocate_port()
            now = utc_now()
            expires = now + dt.timedelta(seconds=ttl_seconds) if ttl_seconds else None
            origin = self.snapshot_path(name, ORIGIN_TAG)
            os.makedirs(self.snapshots_dir(), mode=0o700, exist_ok=True)
            ctx.timings.mark("checks")
            if tag:
                Btrfs.snapshot(self.snapshot_path(source, tag), origin, readonly=True)
                ctx.timings.mark("snapshot source")
            else:
                self._snapshot_live(ctx, source, origin)
            undo.push(f"delete {origin}", lambda: Btrfs.delete(origin))
            record = {"name": name, "port": port, **self.record_defaults(name), "source": source_spec,
                      "forked_from_snapshot": origin, "created_at": iso(now), "expires_at": iso(expires) if expires else None}
            self._materialize(undo, ctx, Image(origin, role=source), name, self.path(name), record)
            password = new_password()
            self.write_password(name, password)
            undo.push("remove password", lambda: remove_file(self.secret_path(name)))
            self._enable_and_start(undo, name)
            ctx.timings.mark("start")
            self.adopt_credentials(record, source, password)
            ctx.timings.mark("credentials")
            if expires:
                undo.push("remove expiry timer", lambda: self.remove_timer(name))
                self.install_timer(name, expires)
                ctx.timings.mark("ttl timer")
            undo.commit()
        return self._status_after(name, ctx)

    def _replace(self, name: str, image: Image, ctx: Context, record: dict[str, Any]) -> None:
        """Swap the instance's subvolume for a writable snapshot of `image`; the old one is kept until
        the new one runs, and put back if it does not."""
        path = self.path(name)
        stamp = f"{os.getpid()}-{int(time.time())}"
        fresh, old = os.path.join(self.root, f".tmp-{name}.{stamp}"), os.path.join(self.root, f".old-{name}.{stamp}")
        password = self.read_password(name)
        was_active = self.is_active(name)
        with Undo(self.tool) as undo:
            self._materialize(undo, ctx, image, name, fresh, record)
            self.stop_instance(name)
            if was_active:
                undo.push("restart the previous state", lambda: self.start_instance(name))
            ctx.timings.mark("stop")
            os.rename(path, old)
            undo.push("put the previous subvolume back", lambda: os.rename(old, path))
            os.rename(fresh, path)
            undo.push("move the new subvolume aside", lambda: os.rename(path, fresh))
            undo.push("stop unit", lambda: self.stop_instance(name))
            self.start_instance(name)
            ctx.timings.mark("start")
            self.adopt_credentials(record, image.role, password)
            ctx.timings.mark("credentials")
            undo.commit()
        try:
            Btrfs.delete(old)
        except ToolError as e:
            say(self.tool, f"warning: could not delete the previous subvolume {old}: {e}")
        ctx.timings.mark("delete previous")

    def reset(self, name: str) -> dict[str, Any]:
        ctx = Context(Timings(self.tool, self.show_timings))
        with self.lock:
            record = self.load(name)
            origin = self.snapshot_path(name, ORIGIN_TAG)
            if not record.get("source") or not Btrfs.is_subvolume(origin):
                raise ToolError(f"{name!r} is not a fork (it has no {origin}); reset only returns a fork to its fork-time state",
                                EXIT_USAGE)
            self.require_space()
            source_role = record["source"].split("@", 1)[0]
            self._replace(name, Image(origin, role=source_role), ctx, record)
        return self._status_after(name, ctx)

    def snapshot(self, name: str, tag: str) -> dict[str, Any]:
        validate_tag(tag)
        if tag == ORIGIN_TAG:
            raise ToolError(f"invalid snapshot tag {tag!r}: reserved for the fork-time snapshot", EXIT_USAGE)
        ctx = Context(Timings(self.tool, self.show_timings))
        with self.lock:
            self.load(name)
            dest = self.snapshot_path(name, tag)
            if os.path.lexists(dest):
                raise ToolError(f"instance {name!r} already has a snapshot {tag!r}", EXIT_EXISTS)
            self.require_space()
            os.makedirs(self.snapshots_dir(), mode=0o700, exist_ok=True)
            self._snapshot_live(ctx, name, dest)
        return {"name": name, "tag": tag, "path": dest, "timings_ms": ctx.timings.as_dict()}

    def rollback(self, name: str, tag: str) -> dict[str, Any]:
        validate_tag(tag)
        ctx = Context(Timings(self.tool, self.show_timings))
        with self.lock:
            record = self.load(name)
            snap = self.snapshot_path(name, tag)
            if not Btrfs.is_subvolume(snap):
                raise ToolError(f"instance {name!r} has no snapshot {tag!r} (tags: {', '.join(self.tags(name)) or 'none'})",
                                EXIT_NOT_FOUND)
            self.require_space()
            source_role = record["source"].split("@", 1)[0] if tag == ORIGIN_TAG and record.get("source") else name
            self._replace(name, Image(snap, role=source_role), ctx, record)
        return self._status_after(name, ctx)

    def destroy(self, name: str, expired: bool = False) -> str:
        validate_name(name)
        with self.lock:
            leftovers = self.traces(name)
            if not leftovers and not self.is_enabled(name):
                if expired:
                    return f"{name}: already gone"
                raise ToolError(f"no instance named {name!r} (see {self.tool} list)", EXIT_NOT_FOUND)
            if expired:
                # Fails closed: only a record that says the TTL has ended lets the timer destroy.
                try:
                    expires_at = read_json(self.record_path(name)).get("expires_at")
                    ends = parse_iso(expires_at) if expires_at else None
                except (OSError, ValueError, AttributeError, TypeError) as e:
                    raise ToolError(f"{name}: its record {self.record_path(name)} cannot be read ({e}); not destroyed") from e
                if ends is None or ends > utc_now():
                    return f"{name}: not expired (expires_at {expires_at}); kept"
            self.stop_instance(name)
            Systemd.disable(self.unit(name))
            self.remove_timer(name)
            for tag in self.tags(name):
                Btrfs.delete(self.snapshot_path(name, tag))
            for entry in self._scratch_entries(name):
                Btrfs.delete(os.path.join(self.root, entry))
            if os.path.lexists(self.path(name)):
                if Btrfs.is_subvolume(self.path(name)):
                    Btrfs.delete(self.path(name))
                else:
                    import shutil

                    shutil.rmtree(self.path(name))
            remove_file(self.secret_path(name))
        return f"destroyed {name}" + (" (expired)" if expired else "")

    def start(self, name: str) -> bool:
        with self.lock:
            self.load(name)
            changed = self.enable_instance(name)
            if not self.is_active(name):
                self.start_instance(name)
                changed = True
            return changed

    def stop(self, name: str) -> bool:
        with self.lock:
            self.load(name)
            changed = self.is_active(name) or self.is_enabled(name)
            self.stop_instance(name)
            Systemd.disable(self.unit(name))
            return changed

    def ensure(self, name: str, fork_of: str | None, ttl: str | None) -> tuple[bool, bool, str]:
        """(changed, created, message): whether NAME was made by this call is decided under the lock."""
        validate_name(name, reserved=self.reserved_names)
        if fork_of:
            self.resolve_image_source(fork_of)
        with self.lock:
            if os.path.isfile(self.record_path(name)):
                record = self.load(name)
                if fork_of and record.get("source") != fork_of:
                    say(self.tool, f"warning: {name} exists with source {record.get('source')!r}, not {fork_of!r}; "
                                   f"left as it is (destroy it to re-create)")
                limited = self.apply_fork_limit(name, record)
                changed = self.start(name)
                message = f"{name}: {'started' if changed else 'already running'}" + (f"; own writes limited to {human_bytes(self.config['fork_limit_bytes'])}" if limited else "")
                return changed or limited, False, message
            if fork_of:
                self.fork(fork_of, name, ttl)
                return True, True, f"{name}: forked from {fork_of}"
            if ttl:
                raise ToolError("--ttl applies only with --fork-of", EXIT_USAGE)
            self.new(name)
            return True, True, f"{name}: created"

    def apply_fork_limit(self, name: str, record: dict[str, Any]) -> bool:
        """Sets fork_limit_bytes on an existing fork when its subvolume carries another limit; whether it did."""
        limit = self.config["fork_limit_bytes"]
        if not record.get("source") or not limit:
            return False
        limits = Btrfs.qgroup_limits(self.root)
        if limits is None:
            raise ToolError(f"fork_limit_bytes in {self.config_path} needs btrfs quotas on {self.root} (a subvolume limit enables them)")
        if limits.get(Btrfs.subvolume_id(self.path(name)), (0, 0, None))[2] == limit:
            return False
        Btrfs.limit_exclusive(self.path(name), limit)
        return True

    def status_one(self, name: str, state: dict[str, str] | None = None,
                   usage: dict[int, tuple[int, int, int | None]] | None | bool = False) -> dict[str, Any]:
        from . import tls

        record = self.load(name)
        state = state if state is not None else self.states([name])[name]
        # Only here: the fork path's status has no time for an openssl process.
        return {**self.describe(name, record, state, Btrfs.qgroup_limits(self.root) if usage is False else usage), "tls": tls.status()}

    def describe(self, name: str, record: dict[str, Any], state: dict[str, str],
                 usage: dict[int, tuple[int, int, int | None]] | None) -> dict[str, Any]:
        path = self.path(name)
        size = None
        if usage is not None:
            ref, excl, cap = usage.get(Btrfs.subvolume_id(path), (None, None, None))
            if ref is not None:
                size = {"referenced_bytes": ref, "exclusive_bytes": excl, "shared_bytes": ref - excl, "exclusive_limit_bytes": cap}
        return {
            "name": name,
            "state": state.get("ActiveState", "unknown"),
            "enabled": self.is_enabled(name),
            "pid": int(state.get("MainPID") or 0) or None,
            "address": self.config["listen"],
            "port": record["port"],
            **{k: v for k, v in record.items() if k not in ("name", "port")},
            "path": path,
            "unit": self.unit(name),
            "snapshots": [t for t in self.tags(name) if t != ORIGIN_TAG],
            "expiry_timer": self.timer(name) if record.get("expires_at") else None,
            "size": size,
        }

    def status(self, name: str | None) -> list[dict[str, Any]] | dict[str, Any]:
        if name is not None:
            return self.status_one(name)
        names = self.names()
        states = self.states(names)
        usage = Btrfs.qgroup_limits(self.root)
        return [self.status_one(n, states[n], usage) for n in names]

    def list(self) -> list[dict[str, Any]]:
        names = self.names()
        states = self.states(names)
        out = []
        for n in names:
            record = read_json(self.record_path(n))
            out.append({"name": n, "state": states[n].get("ActiveState", "unknown"), "port": record["port"],
                        "source": record.get("source"), "created_at": record.get("created_at"),
                        "expires_at": record.get("expires_at")})
        return out

    def connect(self, name: str, uri: bool, extra: list[str], run: bool = False) -> str | None:
        if run and not extra:
            raise ToolError("connect --run: name the program after --, e.g. -- pgbench -c 4", EXIT_USAGE)
        record = self.load(name)
        password = self.read_password(name)
        if uri:
            return self.uri(record, password)
        if not self.is_active(name):
            state = self.states([name])[name].get("ActiveState", "unknown")
            raise ToolError(f"instance {name!r} is not running (state {state}); start it with: {self.tool} start {name}")
        if run:
            argv, env = [self.program_path(extra[0]), *extra[1:]], self.client_env(record, password)
        else:
            argv, env = self.client_argv(record, password, extra)
        sys.stdout.flush()
        os.execve(argv[0], argv, {**os.environ, **env})
        return None  # not reached

    def setup(self) -> bool:
        """Installs the unit templates and directories; idempotent."""
        from . import tls

        self.check_installed()
        tls.require_certificate()
        if not os.path.isdir(self.root):
            raise ToolError(f"instance root {self.root} does not exist: create it as a btrfs subvolume first")
        if not Btrfs.is_btrfs(self.root):
            raise ToolError(f"instance root {self.root} is not on btrfs")
        changed = tls.join_group(self.server_user)
        changed |= ensure_dir(self.secrets_dir(), 0o750, "root", self.service_group())
        changed |= ensure_dir(self.snapshots_dir(), 0o700)
        units_changed = write_atomic(os.path.join(SYSTEMD_DIR, f"{self.tool}@.service"), self.render_unit())
        units_changed |= write_atomic(os.path.join(SYSTEMD_DIR, f"{self.tool}-expire@.service"), self.expire_service())
        if units_changed:
            Systemd.daemon_reload()
        return changed or units_changed
