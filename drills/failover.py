"""The failover drill (`make test-ha`): phones keep posting visits while an app node is killed
and the primary database crashes, and nothing they were told was saved is lost or doubled.

Set-up, all on 127.0.0.1 in one temporary folder: a PostgreSQL primary (GõCửa migrated, one
province loaded and generated, phone accounts for one commune) and a streaming standby the
primary waits for at every commit (synchronous replication); two app nodes (`gocua serve
--no-worker`) and one `gocua worker`, all given both database hosts (`DATABASE_URL` with a host
list: they connect to whichever takes writes) and the standby for dashboards
(`DATABASE_REPLICA_URL`).

Then simulated phones post batches of visits with fixed UUIDs, each batch to the other node
than the last, resending it (to the other node) until a node answers for every visit; after
each answer the phone downloads its worklist from the node that answered and looks for what it
just posted. Meanwhile: one app node is killed with SIGKILL and started again; the primary's WAL
sender stalls for a moment, the primary is crashed (`pg_ctl stop -m immediate`) and the standby
promoted, as an orchestrator would; the crashed primary is rewound (pg_rewind) into a standby of
the new primary, which then waits for it again.

Checks: every visit a node acknowledged is in the database exactly once, and nothing else the
phones sent is; no more than 10 s passed without an acknowledgement; every phone saw its own
visits in its next worklist; the worker's rollups count every visit within three of its
5-second rounds of the last post, and the new standby holds the same rollups as the new
primary. Exit status 1 and the failed checks printed when one fails.

    .venv/bin/python -m drills.failover              # the drill (synchronous replication)
    .venv/bin/python -m drills.failover --async      # the same with asynchronous replication
    .venv/bin/python -m drills.failover --keep       # keep the folder and its logs
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from drills.checks import checks_run
from drills.phones import Phone, Shared, phones_start, phones_stop
from gocua.lib.clusters import Server, eventually, owned_folder, spare_port

ROOT = Path(__file__).resolve().parent.parent
GOCUA = str(Path(sys.executable).parent / "gocua")
PROVINCE = "72"
PEOPLE = 4000
PHONES = 6
MAX_WRITE_GAP = 10.0  # seconds
STALL = 1.5  # seconds the primary stops sending WAL just before it crashes
WORKER_PERIOD = 5.0  # seconds between the worker's rollup rounds (gocua.worker.schedule)
DATABASE = "gocua"
PASSWORD = "drill-password-2026"


@dataclass
class Node:
    """One `gocua serve --no-worker` (or `gocua worker`) process group."""

    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("a") as log:
            # A session of its own: `gocua serve` runs granian's processes under it, and a
            # kill of the whole group is what a lost machine looks like.
            self.process = subprocess.Popen(
                [GOCUA, *self.args], env=self.env, stdout=log, stderr=log, start_new_session=True
            )

    def kill(self) -> None:
        group_stop(self.process, grace=0)

    def stop(self) -> None:
        group_stop(self.process, grace=10)


def group_stop(process: subprocess.Popen | None, *, grace: float) -> None:
    """Stop a process started in a session of its own, with its children: SIGTERM and `grace`
    seconds to finish (none: SIGKILL at once), then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    if grace:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            pass
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@dataclass
class Drill:
    folder: Path
    synchronous: bool
    started: float = field(default_factory=time.monotonic)
    events: list[tuple[float, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def say(self, what: str) -> None:
        at = time.monotonic() - self.started
        self.events.append((at, what))
        print(f"{at:6.1f} s  {what}", flush=True)

    def check(self, ok: bool, what: str) -> None:
        print(f"  {'ok  ' if ok else 'FAIL'}  {what}", flush=True)
        if not ok:
            self.failures.append(what)


def gocua(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [GOCUA, *args], env=env, input=stdin, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"gocua {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def app_env(folder: Path, url: str, replica_url: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOCUA_", "DATABASE_"))}
    env.update(
        DATABASE_URL=url,
        GOCUA_SECRET_KEY="failover-drill-only-key",
        GOCUA_FILES_DIR=str(folder / "files"),  # the folder every node shares
        GOCUA_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    if replica_url:
        env["DATABASE_REPLICA_URL"] = replica_url
    return env


def seed(drill: Drill, primary: Server, *, create: bool = True) -> tuple[str, list[str]]:
    """GõCửa on the primary: migrated, a generated province, PHONES field members of the
    commune with the most households. Returns the commune's code and the members' names."""
    if create:
        primary.sql(f"CREATE DATABASE {DATABASE}")
    env = app_env(drill.folder, primary.url(DATABASE))
    env["GOCUA_VAR_DIR"] = str(drill.folder / "seed")
    gocua(env, "migrate", "-v", "0")
    gocua(env, "units", "load", "--province", PROVINCE, "--edition", "2023")
    gocua(
        env,
        "generate",
        "--province",
        PROVINCE,
        "--edition",
        "2023",
        "--people",
        str(PEOPLE),
        "--seed",
        "3",
    )
    commune = primary.value(
        "SELECT c.code FROM people_household h JOIN geo_adminunit hamlet ON hamlet.id = h.unit_id "
        "JOIN geo_adminunit c ON c.id = hamlet.parent_id GROUP BY c.code "
        "ORDER BY count(*) DESC, c.code LIMIT 1",
        DATABASE,
    )
    names = [f"drill{number}" for number in range(1, PHONES + 1)]
    for name in names:
        gocua(
            env,
            "user",
            "create",
            name,
            "--role",
            "field_member",
            "--unit",
            commune,
            "--edition",
            "2023",
            "--hamlets",
            "all",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
    drill.say(
        f"seeded: {PEOPLE} residents of province {PROVINCE}, {PHONES} phones in commune {commune}"
    )
    return commune, names


def replication(drill: Drill, primary: Server, standby: Server) -> None:
    """`standby` streams from `primary`; with synchronous replication the primary waits for it
    at every commit (from now on: the setting is the primary's own, not the standby's copy)."""
    standby.standby_of(primary, hot_standby_feedback="on")
    standby.start()
    if drill.synchronous:
        primary.set(synchronous_standby_names="*")
    want = "sync" if drill.synchronous else "async"
    state = eventually(
        lambda: (
            primary.value(
                f"SELECT sync_state FROM pg_stat_replication WHERE application_name = '{standby.name}' "
                "AND state = 'streaming'"
            )
            == want
        )
    )
    if not state:
        raise RuntimeError(f"{standby.name} did not start streaming ({want}) from {primary.name}")


def nodes_start(drill: Drill, env: dict[str, str]) -> tuple[list[Node], Node]:
    nodes = []
    for name in ("node-a", "node-b"):
        port = spare_port()
        node_env = {**env, "GOCUA_VAR_DIR": str(drill.folder / name)}
        args = [
            "serve",
            "--no-worker",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ]
        nodes.append(Node(name, args, node_env, drill.folder / f"{name}.log", port))
    worker = Node(
        "worker",
        ["worker"],
        {**env, "GOCUA_VAR_DIR": str(drill.folder / "worker")},
        drill.folder / "worker.log",
    )
    for node in [*nodes, worker]:
        node.start()
    for node in nodes:
        node_wait(node)
    return nodes, worker


def node_wait(node: Node) -> None:
    def answers() -> bool:
        with urllib.request.urlopen(node.url + "/api/v1/openapi.json", timeout=2) as response:
            return response.status == 200

    if not eventually(answers, within=60, every=0.2):
        raise RuntimeError(f"{node.name} did not answer within 60 s (see {node.log})")


def failover(drill: Drill, old: Server, new: Server) -> None:
    """Crash the primary while its standby lags, promote the standby, then bring the old
    primary back as a standby of the new one (pg_rewind) and let the new primary wait for it.

    The primary's WAL sender stops (SIGSTOP) for STALL seconds before the crash, as one behind a
    busy network would, and dies with the primary: with synchronous replication the commits of
    that moment wait and are never acknowledged, so nothing a phone was told about is lost; with
    asynchronous replication they are acknowledged and lost, and the drill says so."""
    sender = int(
        old.value(f"SELECT pid FROM pg_stat_replication WHERE application_name = '{new.name}'")
    )
    os.kill(sender, signal.SIGSTOP)
    drill.say(f"primary {old.name}'s WAL sender stalled for {STALL:.1f} s")
    time.sleep(STALL)
    os.kill(sender, signal.SIGKILL)  # what it holds never leaves the machine
    old.stop("immediate")
    drill.say(f"primary {old.name} crashed (pg_ctl stop -m immediate)")
    new.promote()
    drill.say(f"standby {new.name} promoted")
    # pg_rewind reads the new timeline from the control file, which a checkpoint writes.
    new.sql("CHECKPOINT")
    old.rewind_from(new)
    old.start()
    drill.say(f"{old.name} rewound (pg_rewind) and started as a standby of {new.name}")
    lsn = new.value("SELECT pg_current_wal_lsn()::text")
    caught_up = eventually(
        lambda: old.value(
            "SELECT status = 'streaming' AND received_tli = "
            f"{new.value('SELECT timeline_id FROM pg_control_checkpoint()')} "
            f"AND pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn FROM pg_stat_wal_receiver"
        ),
        within=60,
    )
    if not caught_up:
        raise RuntimeError(f"{old.name} did not catch up with {new.name} (see {old.log})")
    if drill.synchronous:
        # Only now: a primary waiting for a standby that is not there stops every write.
        new.set(synchronous_standby_names="*")
    drill.say(f"{old.name} streaming from {new.name}")


def run(drill: Drill) -> None:
    pg1, pg2 = Server(drill.folder, "pg1"), Server(drill.folder, "pg2")
    servers = [pg1, pg2]
    nodes: list[Node] = []
    worker: Node | None = None
    phones: list[Phone] = []
    try:
        pg1.initdb(
            wal_level="replica",
            max_wal_senders=10,
            wal_keep_size="'256MB'",
            shared_buffers="'64MB'",
            fsync="on",
            synchronous_commit="on",
        )
        pg1.start()
        drill.say(f"primary {pg1.name} on port {pg1.port}")
        commune, names = seed(drill, pg1)
        replication(drill, pg1, pg2)
        drill.say(
            f"standby {pg2.name} on port {pg2.port} ({'synchronous' if drill.synchronous else 'asynchronous'})"
        )
        hosts = f"127.0.0.1:{pg1.port},127.0.0.1:{pg2.port}"
        env = app_env(
            drill.folder,
            f"postgres://postgres@{hosts}/{DATABASE}",
            f"postgres://postgres@{hosts}/{DATABASE}",
        )
        owned_folder(drill.folder / "files")
        nodes, worker = nodes_start(drill, env)
        drill.say("2 app nodes and 1 worker up, on both database hosts")
        shared = Shared(urls=[node.url for node in nodes])
        phones = phones_start(shared, names, PASSWORD)
        drill.say(f"{len(phones)} phones posting")
        scenario(drill, shared, nodes, pg1, pg2)
        phones_stop(phones)
        drill.say(f"phones stopped: {shared.acked_count()} visits acknowledged")
        verify(drill, shared, phones, new_primary=pg2, new_standby=pg1)
    finally:
        phones_stop(phones)
        for node in [*nodes, *([worker] if worker else [])]:
            node.stop()
        for server in servers:
            try:
                server.stop("immediate")
            except RuntimeError:
                pass


def scenario(drill: Drill, shared: Shared, nodes: list[Node], pg1: Server, pg2: Server) -> None:
    time.sleep(5)
    nodes[0].kill()
    drill.say(f"{nodes[0].name} killed (SIGKILL to its process group)")
    time.sleep(2)
    nodes[0].start()
    node_wait(nodes[0])
    drill.say(f"{nodes[0].name} started again")
    time.sleep(4)
    failover(drill, pg1, pg2)
    # Longer than the write gap allowed: writes that never came back fail the gap check.
    time.sleep(MAX_WRITE_GAP + 2)


def verify(
    drill: Drill, shared: Shared, phones: list[Phone], *, new_primary: Server, new_standby: Server
) -> None:
    checks_run(
        drill,
        shared,
        phones,
        new_primary,
        new_standby,
        DATABASE,
        max_gap=MAX_WRITE_GAP,
        worker_period=WORKER_PERIOD,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--async",
        dest="asynchronous",
        action="store_true",
        help="asynchronous replication (may lose acknowledged visits)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the folder and its logs")
    options = parser.parse_args()
    drill_run(run, "failover drill", synchronous=not options.asynchronous, keep=options.keep)


def drill_run(
    run: Callable[[Drill], None], name: str, *, synchronous: bool = True, keep: bool = False
) -> None:
    """Run a drill in a new folder, say whether it passed, exit 1 when it did not; the folder
    and its logs are kept when it failed (or when asked)."""
    folder = owned_folder(Path(tempfile.mkdtemp(prefix="gocua-drill-")))
    drill = Drill(folder=folder, synchronous=synchronous)
    # A drill stopped from outside (a CI timeout) still stops its servers and app nodes: the
    # signal becomes SystemExit, which runs the cleanups on its way out.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(f"{name} stopped"))
    try:
        run(drill)
    except Exception as exc:  # noqa: BLE001 - said, and the drill fails
        drill.failures.append(f"the drill could not run: {exc}")
        print(f"  FAIL  the drill could not run: {exc}", flush=True)
    finally:
        if keep or drill.failures:
            print(f"logs in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    took = time.monotonic() - drill.started
    if drill.failures:
        print(f"{name} FAILED in {took:.0f} s: {len(drill.failures)} check(s)")
        raise SystemExit(1)
    print(f"{name} passed in {took:.0f} s")


if __name__ == "__main__":
    main()
