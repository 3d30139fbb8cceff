"""Throw-away PostgreSQL servers for the tests and the failover drill: a primary, standbys made
from it, a crash, a promotion, an old primary rewound into a standby.

Each server lives in a folder of its own on a spare port of 127.0.0.1, listening on a socket in
that folder, started and stopped with Debian's PostgreSQL binaries as the `postgres` user
(initdb, pg_ctl and pg_rewind refuse to run as root).
"""

import getpass
import glob
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import psycopg

T = TypeVar("T")


def pg_bin() -> Path:
    """The newest installed PostgreSQL's bin folder."""
    found = glob.glob("/usr/lib/postgresql/*/bin")
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return Path(max(found, key=lambda path: int(Path(path).parent.name)))


def spare_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def as_postgres(*command: str, timeout: float = 120) -> str:
    """Run `command` as the `postgres` user; its output, or RuntimeError with its errors."""
    prefix = [] if getpass.getuser() == "postgres" else ["runuser", "-u", "postgres", "--"]
    done = subprocess.run(
        [*prefix, *command], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed: {done.stderr or done.stdout}")
    return done.stdout


def owned_folder(path: Path) -> Path:
    """`path` created and given to the `postgres` user."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.chown(path, "postgres", "postgres")
    return path


def owned_file(path: Path, text: str) -> Path:
    """`text` written to `path`, the file given to the `postgres` user (who reads it whatever
    the umask)."""
    path.write_text(text)
    shutil.chown(path, "postgres", "postgres")
    return path


def eventually(
    check: Callable[[], T],
    *,
    within: float = 30,
    every: float = 0.1,
    errors: tuple[type[Exception], ...] = (psycopg.Error, OSError),
) -> T:
    """The first true answer of `check`, polled for up to `within` seconds (`errors`, a server
    not up or a role not replayed yet, count as not yet); the last answer when none came."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            answer: T | None = check()
        except errors:
            answer = None
        if answer:
            return answer
        time.sleep(every)
    return check()


class Server:
    """One PostgreSQL server: its data in `folder`/`name`, its log and socket in `folder`, on a
    spare port."""

    def __init__(self, folder: Path, name: str):
        self.folder = owned_folder(folder)
        self.name = name
        self.data = folder / name
        self.port = spare_port()
        self.bin = pg_bin()
        self.running = False

    @property
    def log(self) -> Path:
        return self.folder / f"{self.name}.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def initdb(self, **settings: Any) -> None:
        """A new cluster (checksums on, so that pg_rewind can bring back a crashed primary)."""
        as_postgres(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "--data-checksums",
            "-E",
            "UTF8",
        )
        self.configure(**settings)

    def configure(self, **settings: Any) -> None:
        """Its own port and socket folder, then `settings` (name = value)."""
        lines = {
            "port": self.port,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.folder}'",
            "cluster_name": f"'{self.name}'",
            **settings,
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("".join(f"{key} = {value}\n" for key, value in lines.items()))

    def standby_of(self, primary: "Server", **settings: Any) -> None:
        """This server made a streaming standby of `primary` (pg_basebackup -R). Its
        cluster_name is the name the primary knows it by (synchronous_standby_names)."""
        as_postgres(
            str(self.bin / "pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            str(primary.port),
            "-U",
            "postgres",
            "-D",
            str(self.data),
            "-R",
            "-X",
            "stream",
            "--no-sync",
            "--checkpoint=fast",
        )
        self.configure(**settings)

    def rewind_from(self, primary: "Server") -> None:
        """This stopped (crashed) former primary rewound onto `primary`'s timeline and made its
        standby (pg_rewind runs the crash recovery it needs first)."""
        as_postgres(
            str(self.bin / "pg_rewind"),
            "-D",
            str(self.data),
            f"--source-server=host=127.0.0.1 port={primary.port} user=postgres dbname=postgres",
            "--write-recovery-conf",
            "--no-sync",
        )
        # pg_rewind copied the new primary's configuration, port included: this one's again.
        self.configure()

    def start(self) -> None:
        as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "start",
        )
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `immediate` is a crash (no checkpoint, clients cut off)."""
        if self.running:
            as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")
            self.running = False

    def promote(self) -> None:
        as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "promote")

    def sql(self, statement: str, database: str = "postgres") -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url(database), autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchall() if cursor.description else []

    def value(self, statement: str, database: str = "postgres") -> Any:
        rows = self.sql(statement, database)
        return rows[0][0] if rows else None

    def set(self, **settings: str) -> None:
        """ALTER SYSTEM each setting, then reload."""
        for key, value in settings.items():
            self.sql(f"ALTER SYSTEM SET {key} = '{value}'")
        self.sql("SELECT pg_reload_conf()")
