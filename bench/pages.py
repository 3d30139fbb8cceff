"""Benchmark: server time of the campaign-operations list pages on one commune of a generated
province (default: Tây Ninh 2023, 100,000 people), logged in as that commune's unit manager.

Builds its own database with `gocua units load` + `gocua generate` (kept and reused with
--reuse), then requests each page through django.test.Client and prints the median, min and max
of --runs requests (after one warm-up request), the median CPU time of this process (Django,
and SQLite's own work; useful when the machine is shared) and the number of queries.
Target: < 300 ms median.

    .venv/bin/python bench/pages.py                      # SQLite at bench/out/pages.sqlite3
    .venv/bin/python bench/pages.py --db postgres        # PostgreSQL database gocua_bench_pages
    .venv/bin/python bench/pages.py --reuse --runs 9     # skip the generation when data exists
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
PG = "postgres://postgres@127.0.0.1:5432/"
PG_NAME = "gocua_bench_pages"
TARGET_MS = 300


def configure(db: str, name: str = PG_NAME) -> None:
    """Django set up on a bench database of its own: PostgreSQL database `name` (created when
    missing) or the SQLite file bench/out/<name without its gocua_bench_ prefix>.sqlite3."""
    os.environ.setdefault("GOCUA_SECRET_KEY", "bench-only-key")
    os.environ["DJANGO_SETTINGS_MODULE"] = "gocua.settings"
    os.environ.setdefault("GOCUA_LOG_LEVEL", "WARNING")
    if db == "postgres":
        import psycopg

        with psycopg.connect(PG + "postgres", autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(f"CREATE DATABASE {name}")
        os.environ["DATABASE_URL"] = PG + name
    else:
        OUT.mkdir(parents=True, exist_ok=True)
        os.environ.pop("DATABASE_URL", None)
        os.environ["GOCUA_SQLITE_PATH"] = str(OUT / f"{name.removeprefix('gocua_bench_')}.sqlite3")
    import django

    django.setup()


def build(province: str, edition: int, people: int, seed: int, reuse: bool) -> None:
    from django.core.management import call_command

    from gocua.people.models import Resident

    call_command("migrate", verbosity=0, interactive=False)
    if reuse and Resident.objects.exists():
        print(f"reusing {Resident.objects.count():,} residents", file=sys.stderr)
        return
    call_command("units", "load", "--province", province, "--edition", str(edition))
    started = time.perf_counter()
    call_command(
        "generate",
        "--province",
        province,
        "--edition",
        str(edition),
        "--people",
        str(people),
        "--seed",
        str(seed),
        "--replace",
    )
    print(f"generated in {time.perf_counter() - started:.1f} s", file=sys.stderr)


def commune_and_manager(edition: int):
    """The commune with the most residents, and a unit manager of it."""
    from django.db.models import Count

    from gocua.accounts.models import User
    from gocua.geo.models import AdminUnit, Level
    from gocua.people.models import Resident

    hamlet_counts = (
        Resident.objects.filter(unit__edition=edition, unit__level=Level.HAMLET)
        .values("unit__parent_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    commune = AdminUnit.objects.get(pk=hamlet_counts["unit__parent_id"])
    user, _created = User.objects.get_or_create(
        username=f"bench-manager-{commune.code}",
        defaults={"role": "unit_manager", "unit": commune},
    )
    return commune, user, hamlet_counts["n"]


def pages(commune) -> list[tuple[str, str]]:
    from django.urls import reverse

    from gocua.campaigns.models import Team
    from gocua.fieldwork.models import HomeSupportRequest, TrainingSession
    from gocua.people.models import Household

    team = Team.objects.filter(unit=commune, campaign__is_current=True).first()
    out = [
        ("hub", reverse("campaigns:list")),
        ("teams", reverse("campaigns:teams")),
    ]
    if team:
        out += [
            ("roster", reverse("campaigns:team", args=[team.pk])),
            ("assignments", reverse("campaigns:assignments", args=[team.pk])),
        ]
    out += [
        ("worklist", reverse("fieldwork:worklist")),
        ("worklist page 3", reverse("fieldwork:worklist") + "?page=3"),
        ("worklist not_activated", reverse("fieldwork:worklist") + "?gap=not_activated"),
        ("worklist elderly", reverse("fieldwork:worklist") + "?flag=elderly"),
        ("worklist print (commune)", reverse("fieldwork:worklist_print")),
        ("follow-ups today", reverse("fieldwork:follow_ups")),
        ("follow-ups overdue", reverse("fieldwork:follow_ups") + "?due=overdue"),
        ("home support", reverse("fieldwork:home_support")),
        ("to confirm", reverse("fieldwork:to_confirm")),
        ("claims", reverse("fieldwork:claims")),
        ("outreach", reverse("fieldwork:outreach")),
        ("trainings", reverse("fieldwork:trainings")),
    ]
    household = (
        Household.objects.filter(unit__parent=commune).order_by("id").values_list("id", flat=True)
    ).first()
    if household:
        out.append(("visit form", reverse("fieldwork:visit", args=[household])))
    request = (
        HomeSupportRequest.objects.filter(resident__unit__parent=commune)
        .values_list("id", flat=True)
        .first()
    )
    if request:
        out.append(
            ("home support detail", reverse("fieldwork:home_support_detail", args=[request]))
        )
    session = TrainingSession.objects.filter(unit=commune).values_list("id", flat=True).first()
    if session:
        out.append(("training detail", reverse("fieldwork:training", args=[session])))
    return out


def measure(client, url: str, runs: int) -> tuple[list[float], int, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client.get(url)  # warm-up (templates compiled, caches filled)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    queries = len(captured)  # now: the next request clears the connection's query log
    times, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return times, cpu, response.status_code, queries, len(response.content)


def arguments(description: str, *, runs: int) -> argparse.ArgumentParser:
    """The options every bench on a generated province takes (the print bench too)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--province", default="72")
    parser.add_argument("--edition", type=int, default=2023)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--runs", type=int, default=runs)
    parser.add_argument("--reuse", action="store_true", help="keep existing generated data")
    return parser


def main() -> None:
    args = arguments(__doc__.splitlines()[0], runs=7).parse_args()

    configure(args.db)
    build(args.province, args.edition, args.people, args.seed, args.reuse)

    from django.test import Client

    commune, user, residents = commune_and_manager(args.edition)
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user)
    print(
        f"{args.db}: {commune.name} ({commune.code}), {residents:,} residents; "
        f"median of {args.runs} requests as unit manager {user.username}"
    )
    print(
        f"{'page':28} {'median ms':>9} {'min':>7} {'max':>7} {'cpu ms':>7} {'queries':>7} "
        f"{'KB':>6}  status"
    )
    slow = 0
    for name, url in pages(commune):
        times, cpu, status, queries, size = measure(client, url, args.runs)
        median = statistics.median(times)
        ok = "ok" if status == 200 and median < TARGET_MS else "SLOW" if status == 200 else status
        slow += ok != "ok"
        print(
            f"{name:28} {median:9.1f} {min(times):7.1f} {max(times):7.1f} "
            f"{statistics.median(cpu):7.1f} {queries:7d} "
            f"{size / 1024:6.0f}  {ok}"
        )
    print(f"target < {TARGET_MS} ms per page: {'met' if not slow else f'{slow} page(s) over'}")


if __name__ == "__main__":
    main()
