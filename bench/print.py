"""Benchmark: the A4 print-out of a whole district's worklist on a generated province (default:
Tây Ninh 2023, 100,000 people), as the province's admin picking the district team.

Builds its own database with `gocua units load` + `gocua generate` (kept and reused with
--reuse), then requests the print page of the district team with the most residents through
django.test.Client and prints the median, min and max of --runs requests (after one warm-up),
the households, people and sheets printed, whether PRINT_LIMIT cut the list, and the size of
the page. Target: < 2 s median ("a whole district prints in under 2 seconds").

    .venv/bin/python bench/print.py                      # SQLite at bench/out/print.sqlite3
    .venv/bin/python bench/print.py --db postgres        # PostgreSQL database gocua_bench_print
    .venv/bin/python bench/print.py --reuse --runs 5     # skip the generation when data exists
    .venv/bin/python bench/print.py --reuse --html out.html   # keep the page to print it
"""

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import arguments, build, configure  # noqa: E402

PG_NAME = "gocua_bench_print"
TARGET_S = 2.0


def district_team_and_admin(edition: int):
    """The district team whose district has the most residents, and a province admin."""
    from django.db.models import Count

    from gocua.accounts.models import User
    from gocua.campaigns.models import Team
    from gocua.geo.models import AdminUnit, Level

    teams = Team.objects.filter(
        campaign__is_current=True, unit__level=Level.DISTRICT, unit__edition=edition
    ).select_related("unit")
    sizes = {
        t: AdminUnit.objects.filter(path__startswith=t.unit.path, edition=edition).aggregate(
            n=Count("residents")
        )["n"]
        for t in teams
    }
    team = max(sizes, key=sizes.get)
    province = AdminUnit.objects.get(edition=edition, parent__isnull=True)
    admin, _created = User.objects.get_or_create(
        username="bench-print-admin", defaults={"role": "province_admin", "unit": province}
    )
    return team, admin, sizes[team]


def main() -> None:
    parser = arguments(__doc__.splitlines()[0], runs=5)
    parser.add_argument("--html", help="write the printed page to this file")
    args = parser.parse_args()

    configure(args.db, PG_NAME)
    build(args.province, args.edition, args.people, args.seed, args.reuse)

    from django.test import Client
    from django.urls import reverse

    from gocua.fieldwork.views.worklists import PRINT_LIMIT

    team, admin, residents = district_team_and_admin(args.edition)
    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(admin)
    url = reverse("fieldwork:worklist_print") + f"?team={team.pk}"
    response = client.get(url)  # warm-up
    assert response.status_code == 200, response.status_code
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
    # Counted in the page itself (the test client's context capture would slow the render).
    page = response.content.decode()
    households = page.count('<tbody class="household">')
    people = page.count('<td class="name">')
    sheets = page.count('<section class="hamlet-page">')
    truncated = 'class="errornote no-print"' in page
    median = statistics.median(times)
    print(
        f"{args.db}: {team.unit.name} ({team.unit.code}), {residents:,} residents, "
        f"team {team.name!r}; print of the whole district, median of {args.runs}"
    )
    print(
        f"median {median:.2f} s (min {min(times):.2f}, max {max(times):.2f}); "
        f"{households:,} households, {people:,} people, {sheets} hamlet sheets, "
        f"{len(response.content) / 1024:,.0f} KB; "
        f"{'CUT at PRINT_LIMIT=' + str(PRINT_LIMIT) if truncated else 'whole district'}"
    )
    print(f"target < {TARGET_S:.0f} s: {'met' if median < TARGET_S else 'NOT met'}")
    if args.html:
        Path(args.html).write_bytes(response.content)


if __name__ == "__main__":
    main()
