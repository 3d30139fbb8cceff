"""The rebuild: every rollup recomputed from the source tables (residents, stage events,
visits), in one transaction; readers keep seeing the old rows until it commits."""

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    Value,
    When,
)
from django.utils import timezone

from gocua.changes.models import ChangedResident, PendingResidents, PendingVisit
from gocua.fieldwork.models import Visit, VisitOutcome
from gocua.geo.models import AdminUnit
from gocua.people.funnel import RANK_BY_CODE, STAGE_CODES, stages_at_least
from gocua.people.models import Resident, StageEvent
from gocua.reports.models import MemberDay, ResidentSnapshot, RollupState, StageRegression, UnitDay
from gocua.reports.rollups import dates
from gocua.reports.rollups.imported import count_stocks
from gocua.reports.rollups.residents import CLAIM_CODES, CLAIM_FLOW, SNAPSHOT_COLUMNS, STAGE_CASE
from gocua.reports.rollups.rows import (
    Flows,
    LocalDate,
    flows,
    write_member_flows,
    write_stocks,
    write_unit_flows,
)
from gocua.reports.rollups.stocks import Diffs, Span, add_into, stock_vector
from gocua.reports.rollups.visits import NOT_HOME


@dataclass
class Scope:
    """What a rebuild recounts: every unit, or those of one edition (`units` its ids)."""

    edition: int | None
    units: object | None  # a values("id") queryset of the edition's units

    def filter(self, queryset, field: str):
        return (
            queryset.filter(**{f"{field}__in": self.units}) if self.units is not None else queryset
        )


def rollup_rebuild(*, edition: int | None = None, on: dt.date | None = None) -> dict:
    """Recompute every rollup from the source tables (residents, stage events, visits).

    One transaction; readers keep seeing the old rows until it commits. `edition` limits the
    work to the units of one edition (the other edition's rows are kept). Returns counts:
    {"residents", "unit_days", "member_days", "regressions", "first_day", "day", "min_age"}.
    """
    last = on or dates.today()
    with transaction.atomic():
        _hold_queue()  # before the state's lock: a post queues visits, then folds
        min_age = dates.current_min_age()
        state = RollupState.objects.select_for_update().filter(pk=1).first()
        first = dates.default_first_day(last)
        if edition is not None and (
            state is None or state.min_age != min_age or state.first_day != first
        ):
            # The minimum age and the first day are shared by both editions' rows: when they
            # change (a new campaign), everything is rebuilt.
            edition = None
        if edition is not None and state is not None:  # a kept state, see above
            last = max(last, state.day)
        units = (
            AdminUnit.objects.filter(edition=edition).values("id") if edition is not None else None
        )
        scope = Scope(edition, units)
        span = Span(first, last, min_age)
        _empty_queue(scope)
        _delete_rows(scope)
        _fill_snapshots(scope, span)
        unit_days = write_stocks(_stocks(scope, span), last)
        unit_flows, member_flows = _visit_flows(scope, span)
        _claim_flows(scope, span, unit_flows, member_flows)
        write_unit_flows(unit_flows)
        write_member_flows(member_flows)
        StageRegression.objects.bulk_create(_regressions(scope, span), batch_size=2000)
        state = _state_saved(state, span)
        return {
            "residents": scope.filter(ResidentSnapshot.objects.all(), "unit_id").count(),
            "unit_days": UnitDay.objects.count(),
            "member_days": MemberDay.objects.count(),
            "regressions": StageRegression.objects.count(),
            "unit_day_rows_written": unit_days,
            "first_day": first.isoformat(),
            "day": last.isoformat(),
            "min_age": min_age,
        }


def _state_saved(state: RollupState | None, span: Span) -> RollupState:
    if state is None:
        state = RollupState(pk=1)
    state.first_day, state.day, state.min_age = span
    state.built_at = state.swept_at = state.folded_at = timezone.now()
    state.stale_since = None
    state.save()
    return state


def _hold_queue() -> None:
    """Hold the visit queue against new entries until the rebuild commits. On PostgreSQL the
    EXCLUSIVE lock waits for the posts that queued visits and have not committed yet (their
    visits become visible to the rebuild, which counts them and empties their queue rows) and
    makes later posts wait to queue theirs (their visits, invisible to the rebuild, stay
    queued and are folded after it). SQLite runs one write transaction at a time already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(PendingVisit._meta.db_table)
            cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")


def _empty_queue(scope: Scope) -> None:
    """Take off the queue the visits the rebuild counts from the source tables (those of its
    units, or all)."""
    queue = PendingVisit.objects.all()
    if scope.units is not None:
        queue = queue.filter(
            visit_id__in=Visit.objects.filter(household__unit_id__in=scope.units).values("id")
        )
    queue.delete()


def _delete_rows(scope: Scope) -> None:
    scope.filter(UnitDay.objects.all(), "unit_id").delete()
    scope.filter(MemberDay.objects.all(), "member__team__unit_id").delete()
    scope.filter(ResidentSnapshot.objects.all(), "unit_id").delete()
    if scope.units is not None:
        # Residents deleted in bulk (`generate --replace`) leave snapshot rows behind.
        ResidentSnapshot.objects.exclude(resident_id__in=Resident.objects.values("id")).delete()
    scope.filter(StageRegression.objects.all(), "unit_id").delete()


def _fill_snapshots(scope: Scope, span: Span) -> None:
    """ResidentSnapshot := the residents as they are now, in one INSERT .. SELECT.

    The residents queued as new or edited before it are read as they are by it: their queue
    rows go (a full rebuild only; any queued later may be read too, and counting again
    finds nothing to do)."""
    new = PendingResidents.objects.aggregate(m=Max("id"))["m"]
    edited = ChangedResident.objects.aggregate(m=Max("id"))["m"]
    qn = connection.ops.quote_name
    after = dates.day_start(span.first + dt.timedelta(days=1))
    params: list = [connection.ops.adapt_datetimefield_value(after)]
    where = ""
    if scope.edition is not None:
        where = (
            f"WHERE r.unit_id IN (SELECT id FROM {qn(AdminUnit._meta.db_table)} WHERE edition = %s)"
        )
        params.append(scope.edition)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {qn(ResidentSnapshot._meta.db_table)} ({', '.join(SNAPSHOT_COLUMNS)}) "
            "SELECT r.id, r.unit_id, r.birth_date, "
            "CASE WHEN r.deceased OR r.moved_out THEN FALSE ELSE TRUE END, "
            f"CASE r.eid_stage {STAGE_CASE} END, r.eid_level, COALESCE(e.m, 0) "
            f"FROM {qn(Resident._meta.db_table)} r LEFT JOIN ("
            f"SELECT resident_id, MAX(id) AS m FROM {qn(StageEvent._meta.db_table)} "
            f"WHERE at >= %s GROUP BY resident_id) e ON e.resident_id = r.id {where}",
            params,
        )
    if scope.edition is None:
        if new is not None:
            PendingResidents.objects.filter(id__lte=new).delete()
        if edited is not None:
            ChangedResident.objects.filter(id__lte=edited).delete()


def _stocks(scope: Scope, span: Span) -> Diffs:
    """Current stages by unit and eligibility day, minus the events after each day."""
    diffs: Diffs = {}
    count_stocks(
        scope.filter(ResidentSnapshot.objects.filter(active=True), "unit_id"),
        "stage",
        "level",
        span,
        diffs,
    )
    c_first = dates.eligibility_cutoff(span.first, span.min_age)
    c_last = dates.eligibility_cutoff(span.last, span.min_age)
    bucket = Case(
        When(resident__birth_date__lte=c_first, then=Value(c_first)),
        default=F("resident__birth_date"),
        output_field=DateField(),
    )
    level2 = {
        f: Case(When(**{f: 2}, then=1), default=0, output_field=IntegerField())
        for f in ("from_level", "to_level")
    }
    after = dates.day_start(span.first + dt.timedelta(days=1))
    events = scope.filter(
        StageEvent.objects.filter(
            at__gte=after,
            resident__deceased=False,
            resident__moved_out=False,
            resident__birth_date__lte=c_last,
        ),
        "resident__unit_id",
    )
    for unit_id, born, day, frm, to, fl2, tl2, n in (
        events.annotate(
            b=bucket, d=LocalDate("at"), fl2=level2["from_level"], tl2=level2["to_level"]
        )
        .values_list("resident__unit_id", "b", "d", "from_stage", "to_stage", "fl2", "tl2")
        .annotate(n=Count("id"))
        .order_by()
    ):
        start = span.first if born <= c_first else dates.eligible_from(born, span.min_age)
        effective = min(day, span.last)
        if effective <= start:
            continue
        after_step = stock_vector(STAGE_CODES[to], 2 if tl2 else 0)
        before_step = stock_vector(STAGE_CODES[frm], 2 if fl2 else 0)
        delta = [a - b for a, b in zip(after_step, before_step, strict=True)]
        add_into(diffs, (unit_id, start), delta, -n)
        add_into(diffs, (unit_id, effective), delta, n)
    return diffs


def _window(span: Span) -> tuple[dt.datetime, dt.datetime]:
    return dates.day_start(span.first), dates.day_start(span.last + dt.timedelta(days=1))


def _visit_flows(scope: Scope, span: Span) -> tuple[Flows, Flows]:
    """Visits, households reached and visits that met someone, by the household's unit and by
    member, on the visit's local day."""
    lo, hi = _window(span)
    visits = scope.filter(Visit.objects.filter(at__gte=lo, at__lt=hi), "household__unit_id")
    met = Exists(VisitOutcome.objects.filter(visit=OuterRef("pk")).exclude(outcome=NOT_HOME))
    unit_flows, member_flows = flows(), flows()
    for flows_of, by, rows in (
        (unit_flows, "household__unit_id", visits),
        (member_flows, "member_id", visits.filter(member_id__isnull=False)),
    ):
        for key, day, n, households in (
            rows.annotate(d=LocalDate("at"))
            .values_list(by, "d")
            .annotate(n=Count("id"), h=Count("household_id", distinct=True))
            .order_by()
        ):
            flows_of[(key, day)]["visits"] += n
            flows_of[(key, day)]["households"] += households
        for key, day, n in (
            rows.filter(met)
            .annotate(d=LocalDate("at"))
            .values_list(by, "d")
            .annotate(n=Count("id"))
            .order_by()
        ):
            flows_of[(key, day)]["contacted"] += n
    return unit_flows, member_flows


def _claim_flows(scope: Scope, span: Span, unit_flows: Flows, member_flows: Flows) -> None:
    """Claims made, by claimed stage, and how many the confirmed stage supports now."""
    lo, hi = _window(span)
    supported = Q()
    for claimed in CLAIM_CODES:
        supported |= Q(claimed_stage=claimed, resident__eid_stage__in=stages_at_least(claimed))
    claims = scope.filter(
        VisitOutcome.objects.filter(
            claimed_stage__in=list(CLAIM_CODES), visit__at__gte=lo, visit__at__lt=hi
        ),
        "visit__household__unit_id",
    )
    for unit_id, member_id, day, claimed, ok, n in (
        claims.annotate(
            d=LocalDate("visit__at"),
            ok=Case(When(supported, then=1), default=0, output_field=IntegerField()),
        )
        .values_list("visit__household__unit_id", "visit__member_id", "d", "claimed_stage", "ok")
        .annotate(n=Count("id"))
        .order_by()
    ):
        claims_column, confirmed_column = CLAIM_FLOW[claimed]
        unit_flows[(unit_id, day)][claims_column] += n
        if ok:
            unit_flows[(unit_id, day)][confirmed_column] += n
        if member_id is not None:
            member_flows[(member_id, day)]["claims"] += n
            if ok:
                member_flows[(member_id, day)]["confirmed"] += n


def _regressions(scope: Scope, span: Span) -> list[StageRegression]:
    """Confirmed stages that went backwards since the first day."""
    backwards = Q(pk__in=[])
    for frm, fc in STAGE_CODES.items():
        lower = [to for to, tc in STAGE_CODES.items() if RANK_BY_CODE[tc] < RANK_BY_CODE[fc]]
        if lower:
            backwards |= Q(from_stage=frm, to_stage__in=lower)
    after = dates.day_start(span.first + dt.timedelta(days=1))
    events = scope.filter(StageEvent.objects.filter(backwards, at__gte=after), "resident__unit_id")
    return [
        StageRegression(
            event_id=eid, resident_id=rid, unit_id=uid, at=at, from_stage=frm, to_stage=to
        )
        for eid, rid, uid, at, frm, to in events.values_list(
            "id", "resident_id", "resident__unit_id", "at", "from_stage", "to_stage"
        )
    ]
