"""spark-redis: Redis instances, one btrfs subvolume holding config, ACL, AOF and RDB each.

Layout of an instance subvolume <root>/NAME (root:redis 0750):
  instance.json   the record (name, port, role, database, source, forked_from_snapshot, created_at, expires_at)
  redis.conf      port, bind, persistence, maxmemory (root:redis 0640), rewritten on fork, reset and rollback
  users.acl       `default` off; user NAME (the tenant: everything but @admin and @dangerous) and user
                  sparks-tool (PING, INFO, CONFIG GET/SET, BGREWRITEAOF, SYNC; no keys), each with
                  the SHA-256 of its password (root:redis 0640)
  data/           redis' `dir` (redis:redis 0750): appendonlydir/ (multi-part AOF + manifest), dump.rdb

Fork guarantee: every write acknowledged before `fork` started is in the fork. Instances always run
AOF. Redis appends each write to its AOF buffer before replying, and writes that buffer to the file in
beforeSleep, before it sends the replies of that event-loop turn, except with `appendfsync everysec`
while a background fsync is running: then it may postpone the write up to 2 s and still reply. So the
fork first sets `appendfsync always` on the source: the reply to that CONFIG SET comes after a
beforeSleep that wrote the whole buffer (with `always` nothing is postponed), i.e. after every earlier
acknowledged write is in the file's page cache. A btrfs snapshot includes the page cache (it flushes
the source's delalloc first). Then the declared setting is put back, on failure too.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import re

from . import resp, tls
from .instances import (Any, Option, Service, ToolError, check_clients, check_listen, check_port_pool, check_positive,
                        check_root_path, new_password, say, write_atomic)

REDIS_USER = "redis"
REDIS_SERVER = "/usr/bin/redis-server"
REDIS_CLI = "/usr/bin/redis-cli"
CONF_FILE = "redis.conf"
ACL_FILE = "users.acl"
DATA_DIR = "data"
APPENDFSYNC = ("always", "everysec", "no")
MAXMEMORY_POLICIES = ("noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu",
                      "volatile-random", "volatile-ttl")
SAVE_RE = re.compile(r"^(\d+ \d+)( \d+ \d+)*$")
# The host's own ACL user in every instance, its password root's only: what a fork needs (CONFIG SET
# appendfsync), what root reads to watch and copy an instance (INFO, BGREWRITEAOF, the replication
# handshake of redis-cli --rdb), no keys and no user management. So the tenant needs no admin rights,
# and a tenant's password change cannot break forks.
TOOL_USER = "sparks-tool"
TOOL_ACL = "resetkeys resetchannels -@all +ping +info +config|get +config|set +bgrewriteaof +sync +psync +replconf"
# The tenant: its data and scripts, not the server (CONFIG, ACL, SHUTDOWN, MONITOR, REPLICAOF...).
# Emptying its own instance stays allowed (FLUSHDB/FLUSHALL are @dangerous): a fork is there to be reset.
TENANT_ACL = "~* &* +@all -@admin -@dangerous +flushdb +flushall"


def check_appendfsync(value: str) -> str | None:
    return None if value in APPENDFSYNC else f"must be one of {', '.join(APPENDFSYNC)}, found {value!r}"


def check_save(value: str) -> str | None:
    return None if value == "" or SAVE_RE.match(value) else f"must be pairs 'SECONDS CHANGES ...' or '' (no RDB saves), found {value!r}"


def check_policy(value: str) -> str | None:
    return None if value in MAXMEMORY_POLICIES else f"must be one of {', '.join(MAXMEMORY_POLICIES)}, found {value!r}"


def acl_hash(password: str) -> str:
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


class RedisService(Service):
    tool = "spark-redis"
    description = ("Redis instances on btrfs: new, fork (appendfsync always + snapshot + AOF load), reset, snapshot, rollback. "
                   "Every write acknowledged before a fork starts is in the fork.")
    client_name = "redis-cli"
    # ACL user names: `default` is redis' own unauthenticated user, sparks-tool the tool's.
    reserved_names = frozenset({"default", TOOL_USER})
    server_user = REDIS_USER
    quiesce_required = True
    schema = {
        "root": Option(str, check=check_root_path),
        "listen": Option(str, check=check_listen),
        # Networks whose clients may connect; for the host firewall (not enforced by redis itself).
        "clients": Option(list, required=False, default=[], check=check_clients),
        "ports": Option(list, check=check_port_pool),
        "min_free_bytes": Option(int, required=False, default=1 << 30, check=check_positive),
        # 0: forks are not limited; else each fork may write this much of its own (a btrfs exclusive limit).
        "fork_limit_bytes": Option(int, required=False, default=0, check=check_positive),
        "appendfsync": Option(str, required=False, default="everysec", check=check_appendfsync),
        "save": Option(str, required=False, default="3600 1 300 100 60 10000", check=check_save),
        "maxmemory": Option(int, required=False, default=0, check=check_positive),
        "maxmemory_policy": Option(str, required=False, default="noeviction", check=check_policy),
    }

    def record_defaults(self, name: str) -> dict[str, Any]:
        return {"role": name, "database": 0}

    def check_installed(self) -> None:
        if not os.access(REDIS_SERVER, os.X_OK):
            raise ToolError(f"{REDIS_SERVER} is missing: install redis-server")
        try:
            pwd.getpwnam(REDIS_USER)
        except KeyError:
            raise ToolError(f"user {REDIS_USER} is missing: install redis-server")

    # --- talking to an instance --------------------------------------------------------------------

    def tool_password_path(self) -> str:
        # "_" is in no instance name: never an instance's password file.
        return os.path.join(self.secrets_dir(), "_tool.password")

    def tool_password(self) -> str:
        """The tool user's password (root 0600), made on first use."""
        path = self.tool_password_path()
        if not os.path.exists(path):
            write_atomic(path, new_password() + "\n", 0o600, "root", "root")
        with open(path, encoding="utf-8") as f:
            return f.read().strip()

    def connect_as(self, record: dict[str, Any], password: str | None = None, user: str | None = None) -> resp.Connection:
        password = password if password is not None else self.read_password(record["name"])
        try:
            return resp.connect(self.config["listen"], record["port"], user or record["role"], password, cafile=tls.CA_FILE)
        except resp.NotRunning as e:
            raise ToolError(f"redis on port {record['port']}: {e}") from e
        except resp.RespError as e:
            raise ToolError(f"redis on port {record['port']}: {e}")
        except (OSError, TimeoutError) as e:
            raise ToolError(f"redis on port {record['port']}: {e}")

    def command(self, record: dict[str, Any], *args: str, password: str | None = None, user: str | None = None) -> object:
        try:
            with self.connect_as(record, password, user) as conn:
                return conn.command(*args)
        except resp.RespError as e:
            raise ToolError(f"redis on port {record['port']}: {' '.join(args[:3])}: {e}")
        except (OSError, TimeoutError) as e:
            raise ToolError(f"redis on port {record['port']}: {e}")

    # --- hooks ---------------------------------------------------------------------------------------

    def render_unit(self) -> str:
        root = self.root
        return self.instance_unit(f"One redis-server per instance: {root}/NAME/redis.conf.", "spark-redis instance %i", f"""\
# redis.conf says `supervised systemd`: READY=1 comes after the AOF/RDB is loaded.
Type=notify
User={REDIS_USER}
Group={REDIS_USER}
ExecStart={REDIS_SERVER} {root}/%i/{CONF_FILE}
UMask=0027
LimitNOFILE=10032
NoNewPrivileges=true
# Loading a large AOF happens before READY=1.
""")

    def initialize(self, path: str, record: dict[str, Any]) -> None:
        self.make_data_dir(path, DATA_DIR, 0o750)

    def render_conf(self, record: dict[str, Any]) -> str:
        c = self.config
        home = self.path(record["name"])  # the final path: a reset builds the copy elsewhere, then renames it
        save = f'"{c["save"]}"' if c["save"] else '""'
        return f"""# Written by spark-redis for instance {record['name']}; rewritten on fork, reset and rollback.
bind {c['listen']}
# TLS only, with the host's certificate (sparks_host/tls.py); clients authenticate with ACL passwords.
port 0
tls-port {record['port']}
tls-cert-file {tls.CERT_FILE}
tls-key-file {tls.KEY_FILE}
tls-ca-cert-file {tls.CA_FILE}
tls-auth-clients no
tls-protocols "TLSv1.2 TLSv1.3"
protected-mode yes
unixsocket ""
daemonize no
supervised systemd
logfile ""
dir {home}/{DATA_DIR}
aclfile {home}/{ACL_FILE}
# Forks keep every acknowledged write only with AOF on (see spark-redis --help).
appendonly yes
appenddirname appendonlydir
appendfilename appendonly.aof
appendfsync {c['appendfsync']}
aof-use-rdb-preamble yes
aof-load-truncated yes
dbfilename dump.rdb
save {save}
maxmemory {c['maxmemory']}
maxmemory-policy {c['maxmemory_policy']}
"""

    def render_acl(self, name: str, password: str | None) -> str:
        # resetpass, not nopass: while the default user is nopass, off or not, protected mode refuses
        # every client off loopback, so an instance listening on any other address would serve nobody.
        lines = ["user default off resetpass resetkeys resetchannels -@all", f"user {TOOL_USER} on #{acl_hash(self.tool_password())} {TOOL_ACL}"]
        if password is not None:
            lines.append(f"user {name} on #{acl_hash(password)} {TENANT_ACL}")
        return "\n".join(lines) + "\n"

    def configure(self, path: str, record: dict[str, Any]) -> bool:
        password = self.read_password(record["name"]) if os.path.exists(self.secret_path(record["name"])) else None
        changed = write_atomic(os.path.join(path, CONF_FILE), self.render_conf(record), 0o640, "root", REDIS_USER, sync=False)
        changed |= write_atomic(os.path.join(path, ACL_FILE), self.render_acl(record["name"], password), 0o640, "root", REDIS_USER,
                                sync=False)
        return changed

    def write_password(self, name: str, password: str) -> None:
        super().write_password(name, password)
        write_atomic(os.path.join(self.path(name), ACL_FILE), self.render_acl(name, password), 0o640, "root", REDIS_USER, sync=False)

    def clean_runtime(self, path: str) -> None:
        # Half-written RDB saves and AOF rewrites of the source: redis ignores them, they only take space.
        data = os.path.join(path, DATA_DIR)
        for leftover in glob.glob(os.path.join(data, "temp-*")) + glob.glob(os.path.join(data, "appendonlydir", "temp-*")):
            os.unlink(leftover)

    def quiesce(self, record: dict[str, Any]) -> bool:
        try:
            conn = self.connect_as(record, self.tool_password(), TOOL_USER)
        except ToolError as e:
            if isinstance(e.__cause__, resp.NotRunning):
                return False  # stopped: a clean shutdown wrote and fsynced the whole AOF
            raise
        with conn:
            try:
                conn.command("CONFIG", "SET", "appendfsync", "always")
            except resp.RespError as e:
                raise ToolError(f"redis on port {record['port']}: CONFIG SET appendfsync always: {e}")
            except (OSError, TimeoutError) as e:
                self.release(record)  # the setting may have been applied before the connection broke
                raise ToolError(f"redis on port {record['port']}: {e}")
        return True

    def release(self, record: dict[str, Any]) -> None:
        declared = self.config["appendfsync"]
        try:
            self.command(record, "CONFIG", "SET", "appendfsync", declared, password=self.tool_password(), user=TOOL_USER)
        except ToolError as e:  # the source stays on `always`: slower, never less safe
            say(self.tool, f"warning: could not set appendfsync back to {declared} on {record['name']}: {e}")

    def bootstrap_credentials(self, record: dict[str, Any], password: str) -> None:
        self._require_answers(record, password)

    def adopt_credentials(self, record: dict[str, Any], image_role: str, password: str) -> None:
        # The ACL file written before the start already holds only this instance's user.
        self._require_answers(record, password)

    def _require_answers(self, record: dict[str, Any], password: str) -> None:
        pong = self.command(record, "PING", password=password)
        if pong != "PONG":
            raise ToolError(f"redis on port {record['port']} answered PING with {pong!r}")

    def client_argv(self, record: dict[str, Any], password: str, extra: list[str]) -> tuple[list[str], dict[str, str]]:
        return ([REDIS_CLI, "--no-auth-warning", "--tls", "--cacert", tls.CA_FILE, "-h", self.config["listen"], "-p", str(record["port"]),
                 "--user", record["role"], *extra], {"REDISCLI_AUTH": password})

    def client_env(self, record: dict[str, Any], password: str) -> dict[str, str]:
        # redis-cli reads REDISCLI_AUTH; the rest is for scripts (redis-cli takes -h/-p/--user as arguments).
        return {"REDISCLI_AUTH": password, "SPARKS_REDIS_HOST": self.config["listen"], "SPARKS_REDIS_PORT": str(record["port"]),
                "SPARKS_REDIS_USER": record["role"], "SPARKS_REDIS_TLS_CA": tls.CA_FILE}

    def uri(self, record: dict[str, Any], password: str) -> str:
        listen = self.config["listen"]
        host = f"[{listen}]" if ":" in listen else listen
        # ssl_ca_certs: what redis-py's from_url reads; redis-cli -u takes the CA as --cacert.
        return f"rediss://{record['role']}:{password}@{host}:{record['port']}/{record['database']}?ssl_ca_certs={tls.CA_FILE}"

    def reload_tls(self) -> list[str]:
        # Redis re-reads the TLS files only when a value changes: the renewed files' own paths are new.
        cert, key = tls.current_files()
        lines = []
        with self.lock:
            for name in self.names():
                if not self.is_active(name):
                    continue
                record = self.load(name)
                self.command(record, "CONFIG", "SET", "tls-cert-file", cert, "tls-key-file", key, password=self.tool_password(), user=TOOL_USER)
                lines.append(f"{name}: reloaded")
        return lines

    def setup(self) -> bool:
        # Instances are root:redis 0750 below the root; redis has to pass through the root itself.
        if os.path.isdir(self.root) and not os.stat(self.root).st_mode & 0o001:
            raise ToolError(f"instance root {self.root} is not traversable by the redis user: give it o+x (e.g. mode 0755 or 0711)")
        return super().setup()

    # --- ensure also converges the declared settings of an existing instance -----------------------

    def ensure(self, name: str, fork_of: str | None, ttl: str | None) -> tuple[bool, bool, str]:
        with self.lock:
            reconfigured = False
            if os.path.isfile(self.record_path(name)):
                record = self.load(name)
                if self.configure(self.path(name), record) and self.is_active(name):
                    self.stop_instance(name)
                    self.start_instance(name)
                    reconfigured = True
            changed, created, message = super().ensure(name, fork_of, ttl)
        if reconfigured:
            return True, created, f"{name}: settings changed, restarted"
        return changed, created, message
