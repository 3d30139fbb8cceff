"""Database URLs: dj-database-url's parsing, plus the multi-host form of a replicated cluster.

A PostgreSQL cluster with a standby that can take over is reached through every host that may
be its primary: libpq tries them in turn and keeps the first that accepts writes
(`target_session_attrs=read-write`), so after a failover the next connection finds the new
primary without a restart or a changed setting. Two spellings of such a URL are taken:

    postgres://user@db1%2Cdb2:5432/gocua            one port for every host (dj-database-url's)
    postgres://user@db1:5432,db2:5433/gocua         libpq's own, a port per host

dj-database-url refuses the second (its port is not a number), so it is read here and handed to
psycopg as libpq's `host=db1,db2 port=5432,5433`.
"""

import re
from typing import Any
from urllib.parse import unquote

import dj_database_url

# userinfo@hosts/rest: hosts is everything between the last "@" of the authority and the path.
_AUTHORITY = re.compile(
    r"^(?P<scheme>[a-z0-9+]+)://(?:(?P<user>[^@/]*)@)?(?P<hosts>[^/?#]*)(?P<rest>.*)$"
)
# A failed host is left after this many seconds: a host that does not answer at all (a machine
# gone, not a refused port) would otherwise hold each new connection for the TCP timeout.
CONNECT_TIMEOUT = 5
# A connection whose server vanished without a goodbye (a lost machine) is found dead after
# about 10 + 3 x 5 s instead of the kernel's two hours.
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


def parse_database_url(
    url: str, *, role: str = "read-write", connect_timeout: int = CONNECT_TIMEOUT, **defaults: Any
) -> dict[str, Any]:
    """Django's DATABASES entry for `url` (dj-database-url's keys; `defaults` are its
    conn_max_age etc.). With several hosts, `role` is the session libpq looks for among them
    unless the URL says (target_session_attrs: read-write for the primary, prefer-standby for
    a replica). Raises ValueError for a URL it cannot read."""
    found = _AUTHORITY.match(url)
    hosts = unquote(found.group("hosts")) if found else ""
    if found is None or "," not in hosts:
        db: dict[str, Any] = dict(dj_database_url.parse(url, **defaults))
    else:
        # Parse the URL with its first host, then put every host and port back.
        names, ports = _hosts_and_ports(hosts)
        single = f"{found.group('scheme')}://"
        if found.group("user") is not None:
            single += f"{found.group('user')}@"
        first = f"[{names[0]}]" if ":" in names[0] else names[0]  # an IPv6 address
        single += f"{first}{found.group('rest')}"
        db = dict(dj_database_url.parse(single, **defaults))
        db["HOST"] = ",".join(names)
        db["PORT"] = ",".join(ports) if any(ports) else ""
    if db.get("ENGINE") == "django.db.backends.postgresql":
        options = db.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", connect_timeout)
        for key, value in KEEPALIVES.items():
            options.setdefault(key, value)
        if "," in str(db.get("HOST", "")):
            options.setdefault("target_session_attrs", role)
    return db


def _hosts_and_ports(hosts: str) -> tuple[list[str], list[str]]:
    names, ports = [], []
    for part in hosts.split(","):
        part = part.strip()
        if not part:
            raise ValueError("an empty host in the list of hosts")
        if part.startswith("["):  # [IPv6]:port
            name, _, port = part[1:].partition("]")
            port = port.removeprefix(":")
        else:
            name, _, port = part.rpartition(":") if ":" in part else (part, "", "")
        if port and not port.isdigit():
            raise ValueError(f"the port of {name or part!r} is not a number")
        names.append(name)
        ports.append(port)
    if any(ports):
        # libpq wants a port for every host or one for all: fill the missing ones with the
        # default rather than shifting the others onto the wrong hosts.
        ports = [port or "5432" for port in ports]
    return names, ports
