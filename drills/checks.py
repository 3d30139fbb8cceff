"""The failover drill's checks, read straight from the databases after the phones stopped."""

import time
from typing import Protocol

from drills.phones import Phone, Shared
from gocua.lib.clusters import Server, eventually

# The rollups as the dashboards read them: every row of both tables, in one order.
ROLLUPS = (
    "SELECT 'unit', unit_id, day, visits, households, contacted, claims_registered, "
    "claims_activated, claims_used, st_none, st_registered, st_activated FROM reports_unitday "
    "UNION ALL SELECT 'member', member_id, day, visits, households, contacted, claims, confirmed, "
    "0, 0, 0, 0 FROM reports_memberday ORDER BY 1, 2, 3"
)


class Drill(Protocol):
    def check(self, ok: bool, what: str) -> None: ...

    def say(self, what: str) -> None: ...


def checks_run(
    drill: Drill,
    shared: Shared,
    phones: list[Phone],
    primary: Server,
    standby: Server,
    database: str,
    *,
    max_gap: float,
    worker_period: float,
) -> None:
    errors = [phone.error for phone in phones if phone.error]
    drill.check(not errors, f"every phone ran to the end {errors or ''}")
    acked = set(shared.acked)
    drill.check(len(acked) > 0, f"the phones were acknowledged {len(acked):,} visits")
    drill.check(
        shared.failed_posts > 0,
        f"the outages were felt: {shared.failed_posts} posts failed and were sent again",
    )
    drill.check(not shared.rejected, f"no visit rejected {shared.rejected[:3]}")
    _exactly_once(drill, shared, primary, database)
    # Up to the moment the phones were told to stop: phones that stopped being answered
    # earlier show as one long gap.
    times = sorted(shared.ack_times) + [shared.stopped_at]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    longest = max(gaps, default=0.0)
    drill.check(
        longest < max_gap,
        f"longest time without an acknowledged post: {longest:.2f} s (< {max_gap:.0f} s)",
    )
    drill.check(
        not shared.stale_reads and shared.fresh_reads > 0,
        f"each phone saw its own visits in its next worklist ({shared.fresh_reads} looks, "
        f"{len(shared.stale_reads)} stale {shared.stale_reads[:2]})",
    )
    _rollups(drill, shared, primary, standby, database, worker_period)


def _exactly_once(drill: Drill, shared: Shared, primary: Server, database: str) -> None:
    ids = ",".join(f"'{visit}'" for visit in shared.sent)
    found = primary.sql(
        f"SELECT id::text, count(*) FROM fieldwork_visit WHERE id IN ({ids}) GROUP BY id",
        database,
    )
    stored = {visit for visit, _ in found}
    doubled = [visit for visit, count in found if count != 1]
    lost = set(shared.acked) - stored
    drill.check(
        not lost,
        f"every acknowledged visit is in the new primary ({len(lost)} lost: {sorted(lost)[:3]})",
    )
    drill.check(not doubled, f"each visit is there once ({len(doubled)} more than once)")
    extra = stored - set(shared.acked)
    drill.check(not extra, f"nothing unacknowledged was recorded ({len(extra)} visits)")
    outcomes = primary.value(
        f"SELECT count(DISTINCT visit_id) FROM fieldwork_visitoutcome WHERE visit_id IN ({ids})",
        database,
    )
    drill.check(
        outcomes == len(stored), f"each has its outcomes ({outcomes:,} of {len(stored):,} visits)"
    )


def _rollups(
    drill: Drill,
    shared: Shared,
    primary: Server,
    standby: Server,
    database: str,
    worker_period: float,
) -> None:
    """The worker counts every visit (the province's rollup row equals the visits table) within
    three rounds, and the new standby holds the same rollups once it has replayed as far."""
    last_ack = max(shared.ack_times, default=time.monotonic())
    counted_sql = (
        "SELECT (SELECT coalesce(sum(d.visits), 0) FROM reports_unitday d JOIN geo_adminunit u "
        "ON u.id = d.unit_id WHERE u.parent_id IS NULL) = (SELECT count(*) FROM fieldwork_visit) "
        "AND (SELECT coalesce(sum(visits), 0) FROM reports_memberday) = "
        "(SELECT count(*) FROM fieldwork_visit WHERE member_id IS NOT NULL)"
    )
    counted = eventually(
        lambda: primary.value(counted_sql, database), within=3 * worker_period + 30
    )
    after = time.monotonic() - last_ack
    drill.check(
        bool(counted) and after < 3 * worker_period + 5,
        f"the rollups count every visit {after:.1f} s after the last post "
        f"(< 3 rounds of {worker_period:.0f} s)",
    )
    lsn = primary.value("SELECT pg_current_wal_lsn()::text")
    replayed = eventually(
        lambda: standby.value(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn"), within=30
    )
    drill.check(bool(replayed), f"the new standby {standby.name} replayed up to the new primary")
    on_primary = primary.sql(ROLLUPS, database)
    on_standby = standby.sql(ROLLUPS, database)
    drill.check(
        on_primary == on_standby and len(on_primary) > 0,
        f"the rollups on the new standby equal the new primary's ({len(on_standby):,} rows)",
    )
