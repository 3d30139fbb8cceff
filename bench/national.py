"""Benchmark: a national-size PostgreSQL database (10 million residents over eight provinces).

Builds PostgreSQL database gocua_bench_national the way real provinces arrive: `gocua migrate`,
then for each province in turn `gocua units load --province P --edition 2023` and `gocua import
citizens` of a synthetic file of --per-province rows over its real 2023 communes (made by
bench/import_citizens.py, kept in bench/out/), timing each import (rows/s) and the WAL it wrote
(pg_current_wal_lsn before and after: the whole cluster's, so other databases' writes meanwhile
count too). After the first province (Tây Ninh, a 1.25M database) it sets up a campaign there
(one field account per hamlet of the first communes, and a unit manager) and measures everything
once: the baseline, kept in bench/out/gocua_bench_national-baseline.json. Provinces already imported are
skipped, so a killed build resumes; `--reuse` skips the build altogether.

Then measures the full database in a fresh process, after a warm-up request each, through
django.test.Client (server time in-process; no network):
    the province dashboard page, its JSON KPI route and kpi_rows (as bench/dashboard.py does);
    the national view: there is no national dashboard (a superuser bound to no unit starts at
        the first province's), so GET /dashboard/ as that superuser and the KPI rows of every
        province, one kpi_rows per province, as a national report would read them;
    a commune worklist: the page as the commune's unit manager (as bench/pages.py does), and the
        page and GET /api/v1/worklist as a field member with one hamlet;
    the scans partitioning by province would shorten: the live stage counts of one province
        (no rollups: what kpi_rows falls back to), and `gocua rollup rebuild`, with EXPLAIN
        (ANALYZE, BUFFERS) of the first; table and index sizes;
and then a sync burst against the same database (bench/sync.py's load: `gocua serve`, wrk,
batches of 100 visits then single-visit posts by the field accounts), with its WAL per 1,000
visits. Prints medians with min/max, the ratios to the baseline, and the prior 1.2M figures of
bench/dashboard.py --from-import. Targets: dashboards and worklist < 100 ms and within 1.5x of
1.2M; import throughput within 20% of the first province's and of the 1.2M run. Figures only:
nothing here fails on a time.

    .venv/bin/python bench/national.py                       # build (about 25 min) and measure
    .venv/bin/python bench/national.py --reuse               # measure the kept database again
    .venv/bin/python bench/national.py --reuse --no-sync --no-rebuild   # the reads only
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
PG = "postgres://postgres@127.0.0.1:5432/"
DB = os.environ.get("GOCUA_BENCH_NATIONAL_DB", "gocua_bench_national")
# Eight southern provinces of the 2023 edition, Tây Ninh first; each file's people past the
# millionth are registered in another province (their ID prefix), one no other file uses.
PROVINCES = {"72": "", "70": "001", "75": "038", "80": "040",
             "82": "031", "83": "048", "86": "092", "87": "089"}  # fmt: skip
BASELINE = OUT / f"{DB}-baseline.json"
IMPORTS = OUT / f"{DB}-imports.json"
# bench/dashboard.py --from-import --db postgres, 1,200,000 residents of Tây Ninh.
PRIOR_MS = {"dashboard page": 28.4, "JSON KPI route": 9.9, "kpi_rows selector": 7.4}
PRIOR_IMPORT = (1_200_000, 43.8)  # rows, seconds, with the rollups kept current
TARGET_MS, TARGET_RATIO, TARGET_IMPORT = 100, 1.5, 0.20


def environment() -> dict:
    """The environment of every gocua command and child process on the bench database
    (created when missing)."""
    import psycopg

    with psycopg.connect(PG + "postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB,)).fetchone():
            conn.execute(f"CREATE DATABASE {DB}")
    OUT.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "DATABASE_URL": PG + DB,
        "GOCUA_SECRET_KEY": os.environ.get("GOCUA_SECRET_KEY", "bench-only-key"),
        "GOCUA_VAR_DIR": str(OUT / "national-var"),
        "GOCUA_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "gocua.settings",
    }


def gocua(env: dict, *args: str) -> tuple[str, float]:
    """Run a gocua command; its stdout and seconds."""
    started = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).parent / "gocua"), *args],
                          env=env, cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"gocua {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    print(f"  gocua {' '.join(args)}: {seconds:.1f} s", file=sys.stderr, flush=True)
    return done.stdout, seconds


def child(env: dict, mode: str, args) -> dict:
    """This script in a fresh process (`--<mode>`): its last stdout line, as JSON."""
    command = [sys.executable, __file__, f"--in-child-{mode}", "--runs", str(args.runs),
               "--members", str(args.members), "--batches", str(args.batches),
               "--singles", str(args.singles)]  # fmt: skip
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"--{mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def sql(query: str, *params) -> list[tuple]:
    import psycopg

    with psycopg.connect(PG + DB, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def wal_bytes() -> int:
    return int(sql("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")[0][0])


def residents_of(province: str) -> int:
    found = sql("SELECT to_regclass('people_resident') IS NOT NULL")[0][0]
    if not found:
        return 0
    return sql("SELECT count(*) FROM people_resident WHERE province_code = %s", province)[0][0]


def import_province(env: dict, province: str, rows: int) -> dict:
    """Load a province's units and import its citizens file: rows/s and WAL bytes."""
    from bench.import_citizens import make_file

    gocua(env, "units", "load", "--province", province, "--edition", "2023")
    path = OUT / f"citizens_{province}_{rows}.csv"
    if not path.exists():
        elsewhere = (f"{PROVINCES[province]}",) if PROVINCES.get(province) else ()
        make_file(rows, path, province=province, born_elsewhere=elsewhere)
    before = sql("SELECT count(*) FROM people_resident")[0][0]
    wal = wal_bytes()
    out, seconds = gocua(env, "import", "citizens", str(path), "--edition", "2023", "--json")
    summary = json.loads(out)
    return {
        "province": province,
        "residents_before": before,
        "rows": rows,
        "inserted": summary["inserted"],
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "wal_bytes": wal_bytes() - wal,
    }


def build(env: dict, args) -> None:
    """Import the provinces not imported yet, one at a time; after the first, the campaign and
    the baseline measurements."""
    gocua(env, "migrate", "--no-input", "-v0")
    imports = json.loads(IMPORTS.read_text()) if IMPORTS.exists() else {}
    first = next(iter(PROVINCES))
    for province in PROVINCES:
        if residents_of(province):
            print(f"  province {province}: already imported", file=sys.stderr)
            continue
        imports[province] = import_province(env, province, args.per_province)
        IMPORTS.write_text(json.dumps(imports, indent=1))
        if province == first:
            child(env, "campaign", args)
            BASELINE.write_text(json.dumps(measure_all(env, args), indent=1))
            print("  baseline measured", file=sys.stderr, flush=True)


def measure_all(env: dict, args) -> dict:
    """The reads in a fresh process, `gocua rollup rebuild` and the sync burst."""
    result = child(env, "measure", args)
    if args.rebuild:
        _out, result["rollup rebuild s"] = gocua(env, "rollup", "rebuild")
    if args.sync:
        result["sync"] = child(env, "sync", args)
    return result


# --- the measurements, in a fresh process ------------------------------------------------------


def setup_django() -> None:
    import django

    django.setup()


def timed(fn, runs: int) -> dict:
    fn()  # warm-up: templates compiled, the day rolled, connections open
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = fn()
        times.append((time.perf_counter() - started) * 1000)
    status = getattr(response, "status_code", 200)
    return {"median": statistics.median(times), "min": min(times), "max": max(times),
            "status": status}  # fmt: skip


def campaign(args) -> dict:
    """A current campaign in the first province, one field account for each hamlet of its first
    communes (args.members in all) and the unit manager of the first of those communes."""
    setup_django()
    import datetime as dt

    from django.utils import timezone

    from gocua.accounts.models import ApiToken, Role, User
    from gocua.campaigns.models import Assignment, Campaign, Member, Team
    from gocua.campaigns.services import campaign_create, user_create_assigned
    from gocua.geo.models import AdminUnit, Level
    from gocua.lib.bulk import analyze

    province = AdminUnit.objects.get(edition=2023, code=next(iter(PROVINCES)))
    if not Campaign.objects.filter(province=province, is_current=True).exists():
        start = timezone.localdate() - dt.timedelta(days=10)
        campaign_create(name="Chiến dịch VNeID", province=province, start_date=start)
    hamlets = AdminUnit.objects.filter(
        edition=2023, level=Level.HAMLET, path__startswith=province.path
    ).select_related("parent")
    made = 0
    for hamlet in hamlets.order_by("parent__code", "name")[: args.members]:
        username = f"tt{hamlet.pk}"
        if not User.objects.filter(username=username).exists():
            user_create_assigned(username=username, role=Role.FIELD_MEMBER, unit=hamlet.parent,
                                 password=None, full_name=f"Thành viên {hamlet.name}",
                                 hamlets=[hamlet.name])  # fmt: skip
            made += 1
    commune = hamlets.order_by("parent__code").first().parent
    User.objects.get_or_create(username=f"bench-manager-{commune.code}",
                               defaults={"role": Role.UNIT_MANAGER, "unit": commune})  # fmt: skip
    analyze([User, ApiToken, Campaign, Team, Member, Assignment])
    return {"field accounts made": made}


def field_members(edition: int = 2023):
    """The bench's field accounts (username tt<hamlet id>), in hamlet order."""
    from gocua.accounts.models import User

    return User.objects.filter(role="field_member", username__startswith="tt").order_by("id")


def national_view(runs: int) -> dict:
    """What a superuser bound to no unit sees first, and every province's KPI rows."""
    from django.test import Client

    from gocua.accounts.models import User
    from gocua.geo.models import AdminUnit
    from gocua.reports.selectors import kpi_rows

    root, _ = User.objects.get_or_create(
        username="bench-national", defaults={"is_superuser": True, "is_staff": True}
    )
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(root)
    provinces = list(AdminUnit.objects.filter(parent__isnull=True, edition=2023))
    return {
        "superuser /dashboard/": timed(lambda: client.get("/dashboard/"), runs),
        f"kpi_rows of {len(provinces)} provinces": timed(
            lambda: [kpi_rows(p, depth=1) for p in provinces], runs
        ),
    }


def worklists(runs: int) -> dict:
    """The commune worklist page (unit manager; field member) and the field member's API."""
    from django.test import Client
    from django.urls import reverse

    from gocua.accounts.models import User
    from gocua.accounts.services import token_create

    manager = User.objects.filter(username__startswith="bench-manager-").order_by("id").first()
    member = field_members().first()
    out = {}
    for label, user in (("unit manager", manager), ("field member", member)):
        client = Client(SERVER_NAME="127.0.0.1")
        client.force_login(user)
        out[f"worklist page ({label})"] = timed(
            lambda c=client: c.get(reverse("fieldwork:worklist")), runs
        )
    _token, key = token_create(user=member, label="bench", campaign_deadline=None)
    api = Client(SERVER_NAME="127.0.0.1")
    response = api.get("/api/v1/worklist", HTTP_AUTHORIZATION=f"Bearer {key}")
    out["worklist API (field member)"] = timed(
        lambda: api.get("/api/v1/worklist", HTTP_AUTHORIZATION=f"Bearer {key}"), runs
    )
    out["worklist API (field member)"]["households"] = len(response.json()["households"])
    return out


def scans(runs: int) -> dict:
    """The live counts of one province's residents by stage: a scan of the province's rows
    (of the whole table when it is not partitioned), and its plan."""
    from django.db.models import Count, Q

    from gocua.geo.models import AdminUnit
    from gocua.people.models import Stage
    from gocua.reports import rollups
    from gocua.reports.selectors import eligible_residents, min_age_now, stage_counts_by_unit

    province = AdminUnit.objects.get(edition=2023, code=next(iter(PROVINCES)))
    on, min_age = rollups.today(), min_age_now()
    counted = eligible_residents(province, on, min_age).aggregate(
        **{s: Count("id", filter=Q(eid_stage=s)) for s in Stage.values}
    )
    plan = (
        eligible_residents(province, on, min_age)
        .values("unit__path")
        .annotate(n=Count("id"))
        .order_by()
        .explain(analyze=True, buffers=True)
    )
    return {
        "live stage counts of one province": timed(
            lambda: stage_counts_by_unit(province, on, min_age), max(3, runs // 3)
        ),
        "counted": sum(counted.values()),
        "plan": plan,
    }


SIZES = """SELECT c.relname, pg_total_relation_size(c.oid), pg_relation_size(c.oid),
 pg_indexes_size(c.oid), c.reltuples::bigint FROM pg_class c JOIN pg_namespace n
 ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'
 ORDER BY 2 DESC LIMIT 8"""


def sizes() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(SIZES)
        tables = {r[0]: {"total": r[1], "heap": r[2], "indexes": r[3], "rows": r[4]}
                  for r in cursor.fetchall()}  # fmt: skip
        cursor.execute("SELECT pg_database_size(current_database())")
        database = cursor.fetchone()[0]
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index"
            " WHERE indrelid = 'people_resident'::regclass ORDER BY 2 DESC"
        )
        indexes = dict(cursor.fetchall())
    return {"database": database, "tables": tables, "resident indexes": indexes}


def measure(args) -> dict:
    """Runs in the child process: every read, on the database of the environment."""
    setup_django()
    from bench import dashboard
    from gocua.people.models import Resident

    province = dashboard.measure(
        SimpleNamespace(edition=2023, province=next(iter(PROVINCES)), runs=args.runs)
    )
    return {
        "residents": Resident.objects.count(),
        "routes": {
            **province["routes"],
            **national_view(args.runs),
            **worklists(args.runs),
        },
        "scans": scans(args.runs),
        "sizes": sizes(),
    }


# --- the sync burst ----------------------------------------------------------------------------


def sync_people(members: int) -> list[dict]:
    """For each bench field account: a fresh token and its hamlet's households with their
    residents, as bench/sync.py's requests name them."""
    from gocua.accounts.services import token_create
    from gocua.people.models import Resident

    people = []
    for user in field_members()[:members]:
        hamlet = user.memberships.get().assignments.get().hamlet
        homes: dict[int, list[int]] = {}
        for household, resident in Resident.objects.filter(unit=hamlet).values_list(
            "household_id", "id"
        ):
            homes.setdefault(household, []).append(resident)
        token = token_create(user=user, label="bench", campaign_deadline=None)[1]
        people.append({"token": token, "homes": list(homes.items())})
    return people


def sync_phase(url: str, path: Path, lua: Path, expected: int) -> dict:
    """One wrk replay, then the fold of what the worker had not counted yet (bench/sync.py
    --rollups), with the cluster's WAL written meanwhile."""
    import psycopg

    from bench.sync import run_wrk
    from gocua.reports.rollups import rollup_fold

    with psycopg.connect(PG + DB, autocommit=True) as pg:
        wal = wal_bytes()
        r = run_wrk(url, path, lua, threads=2, connections=8, expected=expected,
                    count=lambda: pg.execute("SELECT count(*) FROM fieldwork_visit").fetchone()[0])  # fmt: skip
        started = time.monotonic()
        rollup_fold()
        r["seconds"] += time.monotonic() - started
        r["wal_bytes"] = wal_bytes() - wal
    r.pop("raw")
    r["visits_per_s"] = r["created"] / r["seconds"]
    r["requests_per_s"] = r["requests"] / r["seconds"]
    return r


def sync(args) -> dict:
    """Runs in the child process: bench/sync.py's batches and single posts, shortened, by the
    bench's field accounts, against `gocua serve` on this database; then the worklist API."""
    setup_django()
    import random
    import tempfile

    from django.db import connections

    from bench.sync import (
        LUA,
        ensure_wrk,
        start_server,
        stop_server,
        worklist_times,
        write_requests,  # fmt: skip
    )

    ensure_wrk()
    people = sync_people(args.members)
    connections.close_all()
    tmp = Path(tempfile.mkdtemp(prefix="gocua-bench-national-"))
    rng = random.Random(11)
    batches, singles, lua = tmp / "batches.txt", tmp / "singles.txt", tmp / "replay.lua"
    lua.write_text(LUA)
    expected = {
        "batches of 100": (batches, write_requests(batches, people, args.batches, 100, rng)),
        "single posts": (singles, write_requests(singles, people, args.singles, 1, rng)),
    }
    server, url = start_server({**os.environ})
    try:
        out = {name: sync_phase(url, path, lua, n) for name, (path, n) in expected.items()}
        times, size = worklist_times(url, people[0]["token"], args.runs)
    finally:
        stop_server(server)
    out["worklist API over HTTP"] = {"median": statistics.median(times), "min": min(times),
                                     "max": max(times), "households": size}  # fmt: skip
    return out


# --- the report --------------------------------------------------------------------------------


def ms(t: dict | None) -> str:
    return f"{t['median']:7.1f}" if t else "      -"


def print_routes(now: dict, base: dict) -> None:
    print(f"\nserver time in-process, median of {now['runs']} after a warm-up (ms); "
          f"{base.get('residents', 0):,} vs {now['residents']:,} residents")  # fmt: skip
    print(f"{'route':40} {'1.25M':>7} {'10M':>7} {'min':>7} {'max':>7} {'ratio':>6} "
          f"{'1.2M prior':>10}  target")  # fmt: skip
    for name, t in now["routes"].items():
        b = base.get("routes", {}).get(name)
        ratio = t["median"] / b["median"] if b else None
        ok = t["median"] < TARGET_MS and (ratio is None or ratio < TARGET_RATIO)
        prior = PRIOR_MS.get(name)
        flag = "" if t["status"] == 200 else f" HTTP {t['status']}"
        shown_ratio = f"{ratio:6.2f}" if ratio else "     -"
        against_prior = f"{t['median'] / prior:9.2f}x" if prior else "         -"
        print(f"{name:40} {ms(b)} {ms(t)} {t['min']:7.1f} {t['max']:7.1f} {shown_ratio} "
              f"{against_prior}  {'ok' if ok else 'MISSED'}{flag}")  # fmt: skip


def print_imports() -> None:
    if not IMPORTS.exists():
        return
    imports = list(json.loads(IMPORTS.read_text()).values())
    first = imports[0]["rows_per_s"]
    prior = PRIOR_IMPORT[0] / PRIOR_IMPORT[1]
    print(f"\ngocua import citizens, one province at a time (prior 1.2M run: {prior:,.0f} rows/s;"
          f" target within {TARGET_IMPORT:.0%})")  # fmt: skip
    print(f"{'province':8} {'before':>10} {'rows':>10} {'s':>7} {'rows/s':>8} {'vs first':>8} "
          f"{'vs 1.2M':>8} {'WAL MB':>8} {'WAL B/row':>9}")  # fmt: skip
    for r in imports:
        print(f"{r['province']:8} {r['residents_before']:>10,} {r['rows']:>10,} "
              f"{r['seconds']:7.1f} {r['rows_per_s']:8,.0f} {r['rows_per_s'] / first - 1:+8.1%} "
              f"{r['rows_per_s'] / prior - 1:+8.1%} {r['wal_bytes'] / 1e6:8.0f} "
              f"{r['wal_bytes'] / r['rows']:9,.0f}")  # fmt: skip


def print_scans(now: dict, base: dict) -> None:
    for label, r in (("1.25M", base), ("10M", now)):
        if not r:
            continue
        t = r["scans"]["live stage counts of one province"]
        print(f"\n{label}: live stage counts of one province ({r['scans']['counted']:,} "
              f"eligible): median {t['median']:.0f} ms (min {t['min']:.0f}, max {t['max']:.0f});"
              f" gocua rollup rebuild {r.get('rollup rebuild s', 0):.1f} s")  # fmt: skip
    print("plan at 10M:\n" + now["scans"]["plan"])
    s = now["sizes"]
    per_million = s["database"] / now["residents"] * 1e6
    print(f"\ndatabase {s['database'] / 1e9:.2f} GB: {per_million / 1e6:.0f} MB per million "
          "residents; the largest tables (MB):")  # fmt: skip
    for name, t in s["tables"].items():
        print(f"  {name:28} total {t['total'] / 1e6:8.0f} heap {t['heap'] / 1e6:8.0f} "
              f"indexes {t['indexes'] / 1e6:8.0f}  rows {t['rows']:>11,}")  # fmt: skip
    print("  people_resident's indexes: " + ", ".join(
        f"{name} {size / 1e6:.0f}" for name, size in s["resident indexes"].items()))  # fmt: skip


def print_sync(now: dict, base: dict) -> None:
    for label, r in (("1.25M", base.get("sync")), ("10M", now.get("sync"))):
        if not r:
            continue
        for name, p in r.items():
            if "requests" not in p:
                print(f"{label:5} {name:24} median {p['median']:.1f} ms (min {p['min']:.1f}, max"
                      f" {p['max']:.1f}), {p['households']} households")  # fmt: skip
                continue
            print(f"{label:5} {name:24} {p['requests']:5d} requests {p['created']:6d} visits in "
                  f"{p['seconds']:5.1f} s: {p['visits_per_s']:6.0f} visits/s "
                  f"{p['requests_per_s']:6.1f} req/s p50 {p['p50_ms']:.0f} ms p99 "
                  f"{p['p99_ms']:.0f} ms, non-2xx {p['non_2xx']}, WAL "
                  f"{p['wal_bytes'] / p['created'] * 1000 / 1e6:.1f} MB per 1,000 visits")  # fmt: skip


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-province", type=int, default=1_250_000)
    parser.add_argument("--reuse", action="store_true", help="measure the kept database only")
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--members", type=int, default=100, help="field accounts (sync burst)")
    parser.add_argument("--batches", type=int, default=3, help="batches of 100 per member")
    parser.add_argument("--singles", type=int, default=10, help="single posts per member")
    parser.add_argument("--no-sync", dest="sync", action="store_false")
    parser.add_argument("--no-rebuild", dest="rebuild", action="store_false",
                        help="skip timing `gocua rollup rebuild` (minutes at 10M)")  # fmt: skip
    for mode in ("measure", "campaign", "sync"):
        parser.add_argument(f"--in-child-{mode}", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = arguments()
    for mode, fn in (("measure", measure), ("campaign", campaign), ("sync", sync)):
        if getattr(args, f"in_child_{mode}"):
            print(json.dumps(fn(args)))
            return
    env = environment()
    if not args.reuse:
        build(env, args)
    now = {**measure_all(env, args), "runs": args.runs}
    (OUT / f"{DB}-latest.json").write_text(json.dumps(now, indent=1))
    base = json.loads(BASELINE.read_text()) if BASELINE.exists() else {}
    print_imports()
    print_routes(now, base)
    print_scans(now, base)
    print_sync(now, base)


if __name__ == "__main__":
    main()
