"""spark-pg: Postgres instances, one btrfs subvolume holding the whole cluster each.

Layout of an instance subvolume <root>/NAME:
  instance.json   the record (name, port, role, database, source, forked_from_snapshot, created_at, expires_at)
  data/           PGDATA, pg_wal included: one subvolume is one atomic snapshot of the whole cluster
  data/spark.conf port, listen address and auth settings, included last by data/postgresql.conf
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import pwd

from . import pgwire, tls
from .instances import (Any, Option, Service, ToolError, check_clients, check_listen, check_port_pool, check_positive,
                        check_root_path, remove_file, run, write_atomic)

PG_USER = "postgres"
DATABASE = "app"
SOCKET_DIR = "/run/postgresql"
INCLUDE_LINE = "include 'spark.conf'"
SCRAM_ITERATIONS = 4096


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier Postgres stores (RFC 5802/7677), so the plaintext never reaches the
    server's statements or logs. ASCII passwords only: SASLprep is the identity on them."""
    salt = salt or os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("ascii"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = lambda b: base64.b64encode(b).decode("ascii")  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def ident(name: str) -> str:
    # Names are validated ([a-z][a-z0-9-]*), so quoting is only for the hyphen.
    return '"' + name.replace('"', '""') + '"'


def check_version(value: int) -> str | None:
    return None if 10 <= value <= 40 else f"must be a PostgreSQL major version, found {value}"


class PostgresService(Service):
    tool = "spark-pg"
    description = "Postgres instances on btrfs: new, fork (CHECKPOINT + snapshot + crash recovery), reset, snapshot, rollback."
    client_name = "psql"
    # Role names Postgres refuses or that would collide with the superuser.
    reserved_names = frozenset({"postgres", "public", "none"})
    server_user = PG_USER
    schema = {
        "version": Option(int, check=check_version),
        "root": Option(str, check=check_root_path),
        "listen": Option(str, check=check_listen),
        # Networks whose clients may log in (over TLS); the host itself always may.
        "clients": Option(list, required=False, default=[], check=check_clients),
        "ports": Option(list, check=check_port_pool),
        "min_free_bytes": Option(int, required=False, default=1 << 30, check=check_positive),
        # 0: forks are not limited; else each fork may write this much of its own (a btrfs exclusive limit).
        "fork_limit_bytes": Option(int, required=False, default=0, check=check_positive),
    }

    # --- paths ---------------------------------------------------------------------------------------

    def bin(self, program: str) -> str:
        return f"/usr/lib/postgresql/{self.config['version']}/bin/{program}"

    def record_defaults(self, name: str) -> dict[str, Any]:
        return {"role": name, "database": DATABASE}

    def check_installed(self) -> None:
        if not os.access(self.bin("postgres"), os.X_OK):
            raise ToolError(f"{self.bin('postgres')} is missing: install postgresql-{self.config['version']}")
        try:
            pwd.getpwnam(PG_USER)
        except KeyError:
            raise ToolError(f"user {PG_USER} is missing: install postgresql-{self.config['version']}")

    # --- SQL -------------------------------------------------------------------------------------------

    def sql(self, port: int, *statements: str, database: str = "postgres") -> list[list[str | None]]:
        """Runs each statement (one Query message each) as the postgres superuser over the Unix socket,
        peer auth; returns the last one's rows. Raises pgwire.NotRunning when no server listens."""
        pw = pwd.getpwnam(PG_USER)
        try:
            with pgwire.connect(SOCKET_DIR, port, PG_USER, database, as_uid=pw.pw_uid, as_gid=pw.pw_gid) as conn:
                rows: list[list[str | None]] = []
                for statement in statements:
                    rows = conn.query(statement)
                return rows
        except pgwire.PgError as e:
            raise ToolError(f"postgres on port {port}: {e}")
        except (OSError, TimeoutError) as e:
            raise ToolError(f"postgres on port {port}: {e}")

    # --- hooks -------------------------------------------------------------------------------------------

    def render_unit(self) -> str:
        root = self.root
        return self.instance_unit(f"One Postgres cluster per instance: {root}/NAME/data.",
                                  f"spark-pg PostgreSQL {self.config['version']} instance %i", f"""Type=notify
User={PG_USER}
Group={PG_USER}
ExecStart={self.bin('postgres')} -D {root}/%i/data
ExecReload=/bin/kill -HUP $MAINPID
# SIGINT = fast shutdown; the rest of the process group is killed only after the postmaster exits.
KillMode=mixed
KillSignal=SIGINT
# Crash recovery of a copy replays WAL before READY=1.
""")

    def initialize(self, path: str, record: dict[str, Any]) -> None:
        data = self.make_data_dir(path, "data", 0o700)
        run([self.bin("initdb"), "-D", data, "-U", PG_USER, "--auth-local=peer", "--auth-host=scram-sha-256",
             "-E", "UTF8", "--locale=C.UTF-8"], user=PG_USER, what="initdb")
        with open(os.path.join(data, "postgresql.conf"), "a", encoding="utf-8") as f:
            f.write(f"\n# Instance settings written by spark-pg (port, listen, auth); keep this line last.\n{INCLUDE_LINE}\n")

    def render_hba(self) -> str:
        """Over TCP only TLS with a password: the host itself (its tools, verify), then each client network."""
        listen = self.config["listen"]
        own = f"{listen}/{128 if ':' in listen else 32}"  # the config check made sure it is one IP address
        rows = [("local", "all", PG_USER, "", "peer"), ("hostssl", "all", "all", own, "scram-sha-256")]
        rows += [("hostssl", "all", "all", network, "scram-sha-256") for network in self.config["clients"]]
        lines = [f"{kind:<8}{db:<10}{user:<10}{address:<18}{method}".rstrip() for kind, db, user, address, method in rows]
        return "# Written by spark-pg; rewritten on fork, reset, rollback and ensure.\n# TYPE  DATABASE  USER      ADDRESS           METHOD\n" + \
            "\n".join(lines) + "\n"

    def render_conf(self, record: dict[str, Any]) -> str:
        return f"""# Written by spark-pg for instance {record['name']}; rewritten on fork, reset, rollback and ensure.
cluster_name = '{record['name']}'
port = {record['port']}
listen_addresses = '{self.config['listen']}'
unix_socket_directories = '{SOCKET_DIR}'
password_encryption = 'scram-sha-256'
# The host's certificate (sparks_host/tls.py); pg_hba.conf admits TCP clients over TLS only.
ssl = on
ssl_cert_file = '{tls.CERT_FILE}'
ssl_key_file = '{tls.KEY_FILE}'
ssl_ca_file = '{tls.CA_FILE}'
ssl_min_protocol_version = 'TLSv1.2'
# A fork starts as a crashed server and first syncs its files. Not 'syncfs': that flushes the whole
# btrfs, the busy source's dirty pages included (0.5 s measured under pgbench); the copy's own files
# are clean, so an fsync each is cheap.
recovery_init_sync_method = 'fsync'
"""

    def configure(self, path: str, record: dict[str, Any]) -> bool:
        data = os.path.join(path, "data")
        changed = write_atomic(os.path.join(data, "spark.conf"), self.render_conf(record), 0o600, PG_USER, PG_USER)
        changed |= write_atomic(os.path.join(data, "pg_hba.conf"), self.render_hba(), 0o600, PG_USER, PG_USER)
        conf = os.path.join(data, "postgresql.conf")
        with open(conf, encoding="utf-8") as f:
            if INCLUDE_LINE not in f.read().splitlines():
                raise ToolError(f"{conf} does not include spark.conf: not an instance made by spark-pg")
        return changed

    def reload(self, name: str, record: dict[str, Any]) -> str:
        """Applies the rewritten settings to the running NAME: a reload, or a restart when its server
        started before it could read the certificate (an instance from before TLS)."""
        pid = self.main_pid(self.path(name))
        if pid is None or not tls.process_in_group(pid):
            self.stop_instance(name)
            self.start_instance(name)
            return f"{name}: restarted (its server could not read the certificate)"
        self.sql(record["port"], "SELECT pg_reload_conf()")
        return f"{name}: reloaded"

    def reload_tls(self) -> list[str]:
        with self.lock:
            return [self.reload(name, self.load(name)) for name in self.names() if self.is_active(name)]

    def ensure(self, name: str, fork_of: str | None, ttl: str | None) -> tuple[bool, bool, str]:
        # An existing instance takes the declared clients and TLS settings too.
        with self.lock:
            applied = None
            if os.path.isfile(self.record_path(name)):
                record = self.load(name)
                if self.configure(self.path(name), record) and self.is_active(name):
                    applied = self.reload(name, record)
            changed, created, message = super().ensure(name, fork_of, ttl)
        if applied:
            return True, created, f"{applied}: settings changed"
        return changed, created, message

    def clean_runtime(self, path: str) -> None:
        # A copy of a running cluster carries the source's lock file; its PID is alive here.
        for runtime in ("postmaster.pid", "postmaster.opts"):
            remove_file(os.path.join(path, "data", runtime))

    def quiesce(self, record: dict[str, Any]) -> bool:
        # Moves the redo point to now, so the copy replays almost no WAL. Writers are not blocked.
        try:
            self.sql(record["port"], "CHECKPOINT")
        except pgwire.NotRunning:
            return False  # stopped: its files are a clean shutdown image already
        return True

    def main_pid(self, path: str) -> int | None:
        try:
            with open(os.path.join(path, "data", "postmaster.pid"), encoding="ascii") as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def bootstrap_credentials(self, record: dict[str, Any], password: str) -> None:
        role = ident(record["role"])
        # Separate messages: CREATE DATABASE refuses to run inside a (implicit) transaction.
        self.sql(record["port"], f"CREATE ROLE {role} LOGIN PASSWORD '{scram_verifier(password)}'",
                 f"CREATE DATABASE {ident(record['database'])} OWNER {role}")

    def adopt_credentials(self, record: dict[str, Any], image_role: str, password: str) -> None:
        role = ident(record["role"])
        rename = f"ALTER ROLE {ident(image_role)} RENAME TO {role}; " if image_role != record["role"] else ""
        # One message = one transaction: the image's role is renamed and gets the new password at once.
        # Anyone who logged in with the image's credentials in between is then shown the door.
        self.sql(record["port"], f"{rename}ALTER ROLE {role} PASSWORD '{scram_verifier(password)}'",
                 "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                 " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")

    def client_argv(self, record: dict[str, Any], password: str, extra: list[str]) -> tuple[list[str], dict[str, str]]:
        return [self.bin("psql"), *extra], self.client_env(record, password)

    def client_env(self, record: dict[str, Any], password: str) -> dict[str, str]:
        # What every libpq program reads (psql, pgbench, pg_dump, pg_restore -d "$PGDATABASE").
        env = {"PGHOST": self.config["listen"], "PGPORT": str(record["port"]), "PGUSER": record["role"],
               "PGDATABASE": record["database"], "PGPASSWORD": password, "PGSSLMODE": "verify-full", "PGSSLROOTCERT": tls.CA_FILE}
        if self.libpq_knows_require_auth():
            env["PGREQUIREAUTH"] = "scram-sha-256"
        return env

    def libpq_knows_require_auth(self) -> bool:
        # require_auth is libpq 16's; the host's libpq is the server's major (Debian ships them together).
        return self.config["version"] >= 16

    def program_path(self, program: str) -> str:
        # The server's own version of pgbench, pg_dump...: they are not on PATH on Debian.
        own = self.bin(program)
        return own if "/" not in program and os.path.exists(own) else super().program_path(program)

    def uri(self, record: dict[str, Any], password: str) -> str:
        listen = self.config["listen"]
        host = f"[{listen}]" if ":" in listen else listen
        query = f"sslmode=verify-full&sslrootcert={tls.CA_FILE}" + ("&require_auth=scram-sha-256" if self.libpq_knows_require_auth() else "")
        return f"postgresql://{record['role']}:{password}@{host}:{record['port']}/{record['database']}?{query}"

