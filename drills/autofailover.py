"""The failover drill with pg_auto_failover (`make test-ha-auto`): the same phones, nodes and
checks as drills.failover, but the database is a pg_auto_failover formation (a monitor, a
primary and a synchronous secondary, each run by its `pg_autoctl` keeper), and the switch is
the planned one an operator makes before maintenance: `pg_autoctl perform failover` under load.

The app nodes get the formation's own multi-host URI (`pg_autoctl show uri`), as production
would. Debian's packages: postgresql-15-auto-failover and pg-auto-failover-cli (`make
pgautofailover`).

    .venv/bin/python -m drills.autofailover [--keep]
"""

import argparse
import os
import subprocess
import time
from pathlib import Path

from drills.checks import checks_run
from drills.failover import (
    DATABASE,
    MAX_WRITE_GAP,
    PASSWORD,
    WORKER_PERIOD,
    Drill,
    Node,
    app_env,
    drill_run,
    group_stop,
    nodes_start,
    seed,
)
from drills.phones import Shared, phones_start, phones_stop
from gocua.lib.clusters import Server, eventually, owned_folder, pg_bin


class Keeper:
    """One `pg_autoctl … --run` service (the monitor or a Postgres node) as the postgres user."""

    def __init__(self, folder: Path, name: str, create: list[str]):
        self.folder, self.name = folder, name
        self.server = Server(folder, name)  # its port and data folder; pg_autoctl runs it
        self.create = create
        self.process: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        # pg_autoctl keeps its configuration and state under XDG folders: the drill's own.
        return {
            **os.environ,
            "XDG_CONFIG_HOME": str(self.folder / "xdg-config"),
            "XDG_DATA_HOME": str(self.folder / "xdg-data"),
            "PATH": f"{pg_bin()}:{os.environ['PATH']}",
        }

    def start(self, monitor: str | None = None) -> None:
        command = [
            "runuser",
            "-u",
            "postgres",
            "--",
            "pg_autoctl",
            "create",
            *self.create,
            "--pgdata",
            str(self.server.data),
            "--pgport",
            str(self.server.port),
            "--hostname",
            "127.0.0.1",
            "--auth",
            "trust",
            "--no-ssl",
            "--pgctl",
            str(pg_bin() / "pg_ctl"),
            "--run",
        ]
        if monitor:
            command += ["--monitor", monitor, "--name", self.name, "--dbname", DATABASE]
        with (self.folder / f"{self.name}.log").open("a") as log:
            self.process = subprocess.Popen(
                command, env=self.env(), stdout=log, stderr=log, start_new_session=True
            )

    def autoctl(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                "pg_autoctl",
                *args,
                "--pgdata",
                str(self.server.data),
            ],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg_autoctl {' '.join(args)}: {done.stderr[-1500:]}")
        return done.stdout

    def stop(self) -> None:
        group_stop(self.process, grace=30)
        try:
            self.server.running = True
            self.server.stop("immediate")
        except RuntimeError:
            pass  # not running


def states(monitor: Keeper) -> dict[str, str]:
    """Node name → its reported state, from the monitor."""
    rows = monitor.server.sql(
        "SELECT nodename, reportedstate::text FROM pgautofailover.node ORDER BY nodeid",
        "pg_auto_failover",
    )
    return dict(rows)


def formation(drill: Drill) -> tuple[Keeper, Keeper, Keeper]:
    monitor = Keeper(drill.folder, "monitor", ["monitor"])
    monitor.start()
    eventually(lambda: monitor.server.value("SELECT 1", "pg_auto_failover"), within=60)
    url = (
        f"postgres://autoctl_node@127.0.0.1:{monitor.server.port}/pg_auto_failover?sslmode=disable"
    )
    first = Keeper(drill.folder, "n1", ["postgres"])
    first.start(url)
    if not eventually(lambda: states(monitor).get("n1") == "single", within=90):
        raise RuntimeError(f"n1 did not become the single primary: {states(monitor)}")
    drill.say(
        f"pg_auto_failover monitor on {monitor.server.port}, primary n1 on {first.server.port}"
    )
    return monitor, first, Keeper(drill.folder, "n2", ["postgres"])


def secondary(drill: Drill, monitor: Keeper, primary: Keeper, second: Keeper) -> None:
    """Add the secondary. Its keeper's pg_basebackup waits for a spread checkpoint (minutes
    on an idle server): checkpoints asked of the primary finish it at once."""
    second.start(
        f"postgres://autoctl_node@127.0.0.1:{monitor.server.port}/pg_auto_failover?sslmode=disable"
    )

    def ready() -> bool:
        try:
            primary.server.sql("CHECKPOINT")
        except Exception:  # noqa: BLE001 - restarting for its new HBA rules
            pass
        return states(monitor) == {"n1": "primary", "n2": "secondary"}

    if not eventually(ready, within=120, every=0.5):
        raise RuntimeError(f"the secondary did not join: {states(monitor)}")
    drill.say(f"secondary n2 on {second.server.port}: {states(monitor)}")


def run(drill: Drill) -> None:
    keepers: list[Keeper] = []
    nodes: list[Node] = []
    worker: Node | None = None
    phones = []
    try:
        monitor, first, second = formation(drill)
        keepers = [first, second, monitor]
        _commune, names = seed(drill, first.server, create=False)
        secondary(drill, monitor, first, second)
        uri = monitor.autoctl("show", "uri", "--formation", "default")
        url = _formation_url(uri)
        env = app_env(drill.folder, url, url.replace("read-write", "prefer-standby"))
        owned_folder(drill.folder / "files")
        nodes, worker = nodes_start(drill, env)
        drill.say(f"2 app nodes and 1 worker up on {url}")
        shared = Shared(urls=[node.url for node in nodes])
        phones = phones_start(shared, names, PASSWORD)
        drill.say(f"{len(phones)} phones posting")
        time.sleep(6)
        started = time.monotonic()
        monitor.autoctl("perform", "failover", "--wait", "90", timeout=120)
        drill.say(
            f"pg_autoctl perform failover done in {time.monotonic() - started:.1f} s: {states(monitor)}"
        )
        if not eventually(
            lambda: states(monitor) == {"n1": "secondary", "n2": "primary"}, within=60
        ):
            raise RuntimeError(f"the formation did not settle: {states(monitor)}")
        time.sleep(MAX_WRITE_GAP + 2)
        phones_stop(phones)
        drill.say(f"phones stopped: {shared.acked_count()} visits acknowledged")
        checks_run(
            drill,
            shared,
            phones,
            second.server,
            first.server,
            DATABASE,
            max_gap=MAX_WRITE_GAP,
            worker_period=WORKER_PERIOD,
        )
    finally:
        phones_stop(phones)
        for node in [*nodes, *([worker] if worker else [])]:
            node.stop()
        for keeper in keepers:
            keeper.stop()


def _formation_url(uri: str) -> str:
    """The formation's URI as `pg_autoctl show uri --formation` prints it (libpq's multi-host
    form, target_session_attrs=read-write), connecting as the postgres role."""
    uri = uri.strip()
    if not uri.startswith("postgres://"):
        raise RuntimeError(f"pg_autoctl gave no formation URI: {uri!r}")
    return uri.replace("postgres://", "postgres://postgres@", 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the folder and its logs")
    options = parser.parse_args()
    drill_run(run, "pg_auto_failover drill", keep=options.keep)


if __name__ == "__main__":
    main()
