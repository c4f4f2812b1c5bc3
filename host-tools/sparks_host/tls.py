"""The host's TLS certificate, as components/scripts/host/tls.sh lays it out: a CA of the host's
own, and the server certificate in use under `current` (a symlink swapped atomically on renewal).
The services' users read the key through the group sparks-tls.
"""

from __future__ import annotations

import datetime as dt
import grp
import os
import pwd

from .instances import ToolError, run

TLS_DIR = "/etc/sparks/tls"
CA_FILE = f"{TLS_DIR}/ca.crt"
CURRENT_DIR = f"{TLS_DIR}/current"
CERT_FILE = f"{CURRENT_DIR}/server.crt"
KEY_FILE = f"{CURRENT_DIR}/server.key"
GROUP = "sparks-tls"
MISSING = "run the host's TLS step first (components/scripts/host/tls.sh, the deploy's <host>-tls-certificates)"


def require_certificate() -> None:
    """Raises ToolError unless the CA, the server certificate and its group exist."""
    for path in (CA_FILE, CERT_FILE, KEY_FILE):
        if not os.path.isfile(path):
            raise ToolError(f"{path} is missing: {MISSING}")
    try:
        grp.getgrnam(GROUP)
    except KeyError:
        raise ToolError(f"group {GROUP} is missing: {MISSING}")


def join_group(user: str) -> bool:
    """Adds USER (a service's server user) to the group that reads the server key; whether it did."""
    group = grp.getgrnam(GROUP)
    if user in group.gr_mem or pwd.getpwnam(user).pw_gid == group.gr_gid:
        return False
    run(["usermod", "-a", "-G", GROUP, user], what=f"usermod -a -G {GROUP} {user}")
    return True


def process_in_group(pid: int) -> bool:
    """Whether the running process PID holds the group, i.e. can read the server key (a process
    started before its user joined the group cannot, whatever /etc/group says now)."""
    try:
        gid = grp.getgrnam(GROUP).gr_gid
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Groups:"):
                    return str(gid) in line.split()[1:]
    except (OSError, KeyError):
        return False
    return False


def current_files() -> tuple[str, str]:
    """The certificate and key `current` names now, by their own paths: a server told to read them
    sees a new value whenever the certificate was renewed."""
    return os.path.realpath(CERT_FILE), os.path.realpath(KEY_FILE)


_not_after: dict[str, str | None] = {}


def not_after(cert: str = CERT_FILE) -> str | None:
    """The certificate's expiry as ISO 8601 UTC (`openssl x509 -enddate`), None when there is none."""
    real = os.path.realpath(cert)
    if real not in _not_after:
        if not os.path.isfile(real):
            _not_after[real] = None
        else:
            out = run(["openssl", "x509", "-noout", "-enddate", "-in", real], what="openssl x509 -enddate").stdout.strip()
            # notAfter=Mar  3 09:00:00 2027 GMT
            when = dt.datetime.strptime(" ".join(out.partition("=")[2].split()), "%b %d %H:%M:%S %Y %Z").replace(tzinfo=dt.timezone.utc)
            _not_after[real] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return _not_after[real]


def status() -> dict[str, str | None]:
    """What `status --json` shows of the certificate every instance serves."""
    return {"ca_file": CA_FILE, "cert_file": CERT_FILE, "not_after": not_after()}
