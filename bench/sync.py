"""Benchmark: POST /api/v1/visits/sync and GET /api/v1/worklist on the real server.

Creates a throw-away PostgreSQL database (127.0.0.1:5432, user postgres, trust auth), migrates
it, seeds one commune with 200 field members (one hamlet each: 20 households of 3 residents)
and one member with 300 households, starts `gocua serve` (granian, 2 workers) on a free
127.0.0.1 port, then drives it with wrk (Debian's package: `apt-get install wrk`; its Lua
script replays pre-built requests, each with a fresh visit UUID and the member's own token):

1. batches: every member sends BATCHES batches of 100 visits (1–3 outcomes each);
2. single posts: every member sends SINGLES batches of one visit;
3. worklist: the 300-household member downloads the whole list, ROUNDS times in a row (after
   the loads; once with the planner statistics of before the loads, then after ANALYZE).

Prints visits/s, requests/s, p50/p99 latency and the error count (non-2xx answers, socket
errors, and visits not recorded exactly once, checked in the database afterwards), then drops
the database. With --rollups, each phase lasts until the rollups count every visit (the visits
still queued when the load ends are folded as the worker does, timed), and the province's rows are
checked to hold every visit once. Bounded: a fixed number of requests, each wrk run capped at 300 s.

    .venv/bin/python bench/sync.py                 # 200 members x 5 batches, x 25 singles
    .venv/bin/python bench/sync.py --members 50 --batches 2 --singles 10   # a quick look
"""

import argparse
import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_HOST = "127.0.0.1"
OUTCOMES = ["helped_register", "helped_activate", "guided_usage", "not_home", "refused",
            "already_done", "helped_install", "no_smartphone"]  # fmt: skip

# wrk replays the requests of a file, one per line ("token<TAB>json body"), split between its
# threads, and stops each thread when its share has been answered.
LUA = r"""
local lines, n, sent, answered, total, marker = {}, 0, 0, 0, 0, nil
local non200, rejected = 0, 0
local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  marker = args[3] .. id
  local i = 0
  for line in io.lines(path) do
    if i % nthreads == id - 1 then
      local tab = line:find("\t", 1, true)
      table.insert(lines, {line:sub(1, tab - 1), line:sub(tab + 1)})
    end
    i = i + 1
  end
  total = #lines
end

function request()
  sent = sent + 1
  local item = lines[((sent - 1) % total) + 1]
  return wrk.format("POST", "/api/v1/visits/sync",
    {["Authorization"] = "Bearer " .. item[1], ["Content-Type"] = "application/json"}, item[2])
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then non200 = non200 + 1 end
  if body:find('"rejected"', 1, true) then rejected = rejected + 1 end
  if answered >= total then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local bad, rej = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non200") or 0)
    rej = rej + (t:get("rejected") or 0)
  end
  io.write(string.format("LUA non200=%d rejected=%d\n", bad, rej))
end
"""
# Per-thread counters must be published for `done` (which runs in the main Lua state), and a
# thread that has its share answered leaves a marker file: wrk's main thread would otherwise
# wait for the whole duration, and the benchmark ends as soon as every marker is there.
LUA = LUA.replace(
    "  if answered >= total then wrk.thread:stop() end",
    '  wrk.thread:set("non200", non200)\n  wrk.thread:set("rejected", rejected)\n'
    "  if answered >= total then\n"
    '    local f = io.open(marker, "w"); f:write("done"); f:close()\n'
    "    wrk.thread:stop()\n"
    "  end",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((PG_HOST, 0))
        return s.getsockname()[1]


def psql(sql: str, db: str = "postgres") -> str:
    return subprocess.run(
        ["psql", "-h", PG_HOST, "-U", "postgres", "-d", db, "-tAc", sql],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


def seed(members: int, households_per_member: int, big: int) -> dict:
    """Units, a current campaign, the members, their hamlets, households and residents."""
    import django

    django.setup()
    from django.db import connections
    from django.utils import timezone

    from gocua.accounts.models import ApiToken, User
    from gocua.accounts.services import token_create
    from gocua.campaigns.models import Assignment, Campaign, Member, Team
    from gocua.geo.models import AdminUnit
    from gocua.lib.nid import make
    from gocua.lib.text import key
    from gocua.people.models import Household, Resident

    def unit(code, name, level, parent=None):
        path = f"{parent.path if parent else ''}{code}/"
        return AdminUnit.objects.create(
            edition=2023, code=code, name=name, level=level, parent=parent, path=path,
            depth=path.count("/") - 1, province_code="72", name_key=key(name),
        )  # fmt: skip

    province = unit("72", "Tỉnh Tây Ninh", "province")
    district = unit("703", "Thành phố Tây Ninh", "district", province)
    commune = unit("25456", "Phường 1", "commune", district)
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        name="Bench", province=province, start_date=today - dt.timedelta(days=10),
        deadline=today + dt.timedelta(days=60), is_current=True,
    )  # fmt: skip
    team = Team.objects.create(campaign=campaign, unit=commune, name="Tổ VNeID Phường 1")
    rng = random.Random(7)
    serial = iter(range(1, 10_000_000))
    people = {"members": [], "big": None}
    for m in range(members + 1):
        is_big = m == members
        n = big if is_big else households_per_member
        name = "Khu phố lớn" if is_big else f"Khu phố {m + 1}"
        hamlet = unit(f"25456-{m + 1:03d}", name, "hamlet", commune)
        user = User(username=f"member{m:03d}", role="field_member", unit=commune)
        user.set_unusable_password()
        user.save()
        member = Member.objects.create(team=team, full_name=f"Thành viên {m}",
                                       affiliation="youth_union", user=user)  # fmt: skip
        Assignment.objects.create(member=member, hamlet=hamlet)
        homes = Household.objects.bulk_create(
            [Household(unit=hamlet, address=f"{i + 1} Đường {m}", province_code="72")
             for i in range(n)]
        )  # fmt: skip
        residents = []
        for home in homes:
            for _ in range(3):
                year = rng.randint(1940, 2005)
                residents.append(Resident(
                    national_id=make(province_code="072", sex="M", birth_year=year,
                                     serial=next(serial)),
                    full_name="Nguyễn Văn An", birth_date=dt.date(year, 5, 3), sex="M",
                    unit=hamlet, household=home, province_code="72",
                    eid_stage=rng.choice(["none", "registered", "approved", "activated"]),
                ))  # fmt: skip
        Resident.objects.bulk_create(residents, batch_size=2000)
        by_home: dict = {}
        for r in residents:
            by_home.setdefault(r.household_id, []).append(r.pk)
        entry = {"token": token_create(user=user, label="bench", campaign_deadline=None)[1],
                 "homes": list(by_home.items())}  # fmt: skip
        if is_big:
            people["big"] = entry
        else:
            people["members"].append(entry)
    # Planner statistics of the seeded tables, as a citizens import leaves them (it ends with
    # ANALYZE): planned on the statistics of empty tables, the sync's household check scanned
    # every hamlet of the commune (0.49 instead of 0.23 ms a post). Not the visit tables: an
    # ANALYZE of an empty table tells the planner it stays empty, and until autovacuum's next
    # ANALYZE every visit lookup scans the table (a run lasts less than its one-minute nap).
    from gocua.lib.bulk import analyze

    analyze([AdminUnit, Household, Resident, User, ApiToken, Campaign, Team, Member, Assignment])
    connections.close_all()
    return people


def visit(home, rng) -> dict:
    household, residents = home
    chosen = rng.sample(residents, rng.randint(1, len(residents)))
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=rng.randint(1, 300))
    return {
        "id": str(uuid.uuid4()),
        "household": household,
        "at": at.isoformat(),
        "outcomes": [{"resident": r, "outcome": rng.choice(OUTCOMES), "note": ""} for r in chosen],
        "location": {"lat": 11.3 + rng.random() / 100, "lon": 106.1 + rng.random() / 100},
    }


def write_requests(path: Path, members: list, per_member: int, size: int, rng) -> int:
    """Requests in rounds (every member's first batch, then every member's second …)."""
    visits = 0
    with path.open("w") as out:
        for _round in range(per_member):
            for m in members:
                body = {"visits": [visit(rng.choice(m["homes"]), rng) for _ in range(size)]}
                out.write(m["token"] + "\t" + json.dumps(body, separators=(",", ":")) + "\n")
                visits += size
    return visits


def cpu_seconds(server_sid: int, db: str) -> dict[str, float]:
    """CPU seconds used so far by the server (its session), the PostgreSQL backends of the
    bench database, wrk, and the whole machine (all cores, from /proc/stat): how a run's
    time divides, and how much of the machine something else took meanwhile."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"server": 0.0, "postgres": 0.0, "wrk": 0.0, "postgres background": 0.0}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if int(fields[3]) == server_sid:  # the session id: the server and its workers
            used["server"] += seconds
        elif cmdline.startswith("postgres:") and f" {db} " in cmdline:
            used["postgres"] += seconds
        elif cmdline.startswith("wrk "):
            used["wrk"] += seconds
        elif cmdline.startswith("postgres:") and " postgres " not in cmdline:
            # WAL writer, checkpointer, autovacuum: the load's cost too (other databases'
            # backends name their database and user, and are left out).
            used["postgres background"] += seconds
    cpu = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    used["machine"] = (sum(map(int, cpu)) - int(cpu[3]) - int(cpu[4])) / tick  # not idle/iowait
    return used


def run_wrk(
    url: str,
    requests: Path,
    lua: Path,
    *,
    threads: int,
    connections: int,
    expected: int,
    count,
    cpu=lambda: {},
) -> dict:
    """Replays the requests; the run ends when every wrk thread has had its share answered
    (then wrk is interrupted and reports); the database is counted before and after."""
    lines = sum(1 for _ in requests.open())
    marker = requests.with_suffix(".done.")
    before = count()
    cpu_before = cpu()
    started = time.monotonic()
    wrk = subprocess.Popen(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", "300s", "--timeout", "30s",
         "--latency", "-s", str(lua), url, "--", str(requests), str(threads), str(marker)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    markers = [Path(f"{marker}{i}") for i in range(1, threads + 1)]
    while wrk.poll() is None and not all(m.exists() for m in markers):
        time.sleep(0.01)
    # Each thread re-sends its first requests (duplicates) while its last ones are answered, so
    # a thread can count its share answered just before its last original batch commits.
    deadline = time.monotonic() + 10
    while count() - before < expected and time.monotonic() < deadline:
        time.sleep(0.02)
    seconds = time.monotonic() - started
    cpu_after = cpu()
    if wrk.poll() is None:
        wrk.send_signal(signal.SIGINT)
    out, err = wrk.communicate(timeout=60)
    created = count() - before
    if "Latency Distribution" not in out:
        raise SystemExit(f"wrk failed:\n{out}\n{err}")

    def latency(pct: str) -> float:
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(match[1]), match[2]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    socket_errors = re.search(r"Socket errors: (.*)", out)
    lua_counts = re.search(r"LUA non200=(\d+) rejected=(\d+)", out)
    return {
        "requests": lines,
        "seconds": seconds,
        "created": created,
        "expected": expected,
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "non_2xx": int(lua_counts[1]) if lua_counts else -1,
        "rejected_answers": int(lua_counts[2]) if lua_counts else -1,
        "socket_errors": socket_errors[1] if socket_errors else "none",
        "raw": out,
        "cpu": {k: cpu_after[k] - cpu_before[k] for k in cpu_before},
    }


def worklist_times(url: str, token: str, rounds: int) -> tuple[list[float], int]:
    times, size = [], 0
    for _ in range(rounds):
        request = urllib.request.Request(
            url + "/api/v1/worklist", headers={"Authorization": f"Bearer {token}"}
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        times.append((time.perf_counter() - started) * 1000)
        size = len(json.loads(body)["households"])
    return times, size


def wait_ready(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gocua serve stopped before answering")
        try:
            urllib.request.urlopen(url + "/api/v1/openapi.json", timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gocua serve did not answer within 60 s")


def ensure_wrk() -> None:
    if not shutil.which("wrk"):
        # Like `make test` with chromium: the bench installs its Debian tool, nothing by hand.
        print("installing Debian's wrk for the load generator", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})  # fmt: skip


def start_server(env: dict, workers: int = 2) -> tuple[subprocess.Popen, str]:
    """`gocua serve` (granian, `workers` processes and the background worker) on a free port
    of 127.0.0.1, in a session of its own (stop_server ends it whole); returns it and its URL."""
    gocua = str(Path(sys.executable).parent / "gocua")
    port = free_port()
    url = f"http://{PG_HOST}:{port}"
    server = subprocess.Popen(
        [gocua, "serve", "--host", PG_HOST, "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    wait_ready(url, server)
    return server, url


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--batches", type=int, default=5, help="batches of 100 per member")
    parser.add_argument("--singles", type=int, default=25, help="single-visit posts per member")
    parser.add_argument("--big", type=int, default=300, help="households of the worklist member")
    parser.add_argument("--rounds", type=int, default=30, help="worklist downloads")
    parser.add_argument(
        "--connections", type=int, default=8, help="wrk connections (the server has 2 x 4 threads)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--rollups",
        action="store_true",
        help="build the reporting rollups first (as `gocua rollup roll` does each night), so "
        "every visit is also counted in them; each phase then ends when the worker's fold has "
        "counted the visits still queued",
    )
    args = parser.parse_args()
    ensure_wrk()

    db = f"gocua_bench_sync_{os.getpid()}"
    tmp = Path(tempfile.mkdtemp(prefix="gocua-bench-sync-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@{PG_HOST}:5432/{db}",
        "GOCUA_SECRET_KEY": "bench-only-" + uuid.uuid4().hex,
        "GOCUA_VAR_DIR": str(tmp),
        "GOCUA_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "gocua.settings",
    }
    os.environ.update(env)
    psql(f'CREATE DATABASE "{db}"')
    server = None
    try:
        gocua = str(Path(sys.executable).parent / "gocua")
        subprocess.run([gocua, "migrate", "--no-input"], env=env, check=True,
                       capture_output=True)  # fmt: skip
        t0 = time.monotonic()
        people = seed(args.members, 20, args.big)
        print(f"seeded {args.members} members x 20 households x 3 residents and one member "
              f"with {args.big} households in {time.monotonic() - t0:.1f} s", flush=True)  # fmt: skip
        if args.rollups:
            subprocess.run([gocua, "rollup", "rebuild"], env=env, check=True,
                           capture_output=True)  # fmt: skip
        rng = random.Random(11)
        batches_file, singles_file = tmp / "batches.txt", tmp / "singles.txt"
        batch_visits = write_requests(batches_file, people["members"], args.batches, 100, rng)
        single_visits = write_requests(singles_file, people["members"], args.singles, 1, rng)
        lua = tmp / "replay.lua"
        lua.write_text(LUA)

        server, url = start_server(env)

        import psycopg

        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as pg:

            def visits_in_db() -> int:
                return pg.execute("SELECT count(*) FROM fieldwork_visit").fetchone()[0]

            results = {}
            for name, path, expected in (("batches", batches_file, batch_visits),
                                         ("singles", singles_file, single_visits)):  # fmt: skip
                r = run_wrk(url, path, lua, threads=2, connections=args.connections,
                            expected=expected, count=visits_in_db,
                            cpu=lambda: cpu_seconds(server.pid, db))  # fmt: skip
                if args.rollups:
                    # Posts queue their visits and ask the worker to fold the queue after
                    # their commit; what is still queued when the load ends is folded by the
                    # worker's next fold, run here. The phase ends when it has: the counts
                    # are then current.
                    from gocua.reports.rollups import rollup_fold

                    r["queued"] = pg.execute(
                        "SELECT count(*) FROM changes_pendingvisit"
                    ).fetchone()[0]
                    t0 = time.monotonic()
                    rollup_fold()
                    r["seconds"] += time.monotonic() - t0
                    r["drain_s"] = time.monotonic() - t0
                r["visits_per_s"] = r["created"] / r["seconds"]
                r["requests_per_s"] = r["requests"] / r["seconds"]
                results[name] = r
            if args.rollups:
                # Every visit counted once in the rollups: the province's rows hold them all.
                counted = pg.execute(
                    "SELECT coalesce(sum(d.visits), 0) FROM reports_unitday d JOIN geo_adminunit u"
                    " ON u.id = d.unit_id WHERE u.level = 'province'"
                ).fetchone()[0]
                miscounted = abs(visits_in_db() - counted)

            # Measured after the loads (100,000 visits more in the tables), first as they are,
            # then after ANALYZE, which autovacuum runs within a minute of such a load.
            stale, size = worklist_times(url, people["big"]["token"], max(5, args.rounds // 3))
            pg.execute("ANALYZE")
            times, size = worklist_times(url, people["big"]["token"], args.rounds)
    finally:
        if server is not None:
            stop_server(server)
        from django.db import connections

        connections.close_all()
        if not args.keep:
            psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nserver: gocua serve (granian, 2 workers x 4 threads), PostgreSQL; "
          f"wrk -t2 -c{args.connections}; machine: {os.cpu_count()} cores; reporting rollups "
          f"{'built (each visit updates them)' if args.rollups else 'not built'}")  # fmt: skip
    targets = {"batches": ("visits/s", 5000), "singles": ("posts/s", 500)}
    for name, r in results.items():
        errors = r["non_2xx"] + r["rejected_answers"] + abs(r["expected"] - r["created"])
        if args.rollups:
            print(f"{name:8} when the load ended {r['queued']} visits were still queued for the "
                  f"rollups; the next fold counted them in {r['drain_s']:.2f} s (included below)")  # fmt: skip
        what, target = targets[name]
        rate = r["visits_per_s"] if name == "batches" else r["requests_per_s"]
        print(
            f"{name:8} {r['requests']:6d} requests, {r['created']:6d} visits in "
            f"{r['seconds']:.2f} s: {r['visits_per_s']:8.0f} visits/s, "
            f"{r['requests_per_s']:7.1f} requests/s, p50 {r['p50_ms']:.1f} ms, "
            f"p99 {r['p99_ms']:.1f} ms, errors {errors} (non-2xx {r['non_2xx']}, rejected "
            f"{r['rejected_answers']}, socket {r['socket_errors']}, not recorded once "
            f"{abs(r['expected'] - r['created'])}) [target {what} >= {target}: "
            f"{'ok' if rate >= target and not errors else 'MISSED'}]"
        )
    if args.rollups:
        print(f"rollups: every visit counted once in the province's rows: "
              f"{'yes' if not miscounted else f'NO, {miscounted} visits off'}")  # fmt: skip
    print("\nCPU per request (ms), and the share of the machine's 2 cores each used:")
    for name, r in results.items():
        cpu, wall = r["cpu"], r["seconds"] * (os.cpu_count() or 1)
        other = cpu["machine"] - sum(v for k, v in cpu.items() if k != "machine")
        print(
            f"{name:8} "
            + ", ".join(
                f"{k} {cpu[k] / r['requests'] * 1000:.2f} ({cpu[k] / wall:.0%})"
                for k in ("server", "postgres", "postgres background", "wrk")
            )
            + f"; anything else on the machine {max(other, 0) / wall:.0%}"
        )
    print(
        f"worklist {size} households x {len(stale)} before ANALYZE: median "
        f"{statistics.median(stale):.1f} ms (planner statistics from before the loads: no visits)"
    )
    print(
        f"worklist {size} households x {args.rounds}: median {statistics.median(times):.1f} ms, "
        f"p99 {sorted(times)[max(0, round(len(times) * 0.99) - 1)]:.1f} ms, min "
        f"{min(times):.1f} ms (HTTP round trip on 127.0.0.1, an upper bound of the server time) "
        f"[target < 100 ms: {'ok' if statistics.median(times) < 100 else 'MISSED'}]"
    )


if __name__ == "__main__":
    main()
