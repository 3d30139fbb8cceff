"""The synthetic campaign: the plan, one team per district and per commune with named
members, hamlet assignments, outreach events and trainings."""

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from gocua.campaigns.models import Affiliation, Assignment, Campaign, Member, Team
from gocua.campaigns.services import campaign_create, teams_create_missing
from gocua.fieldwork.models import OutreachEvent, TrainingAttendance, TrainingSession
from gocua.geo.models import AdminUnit
from gocua.people.funnel import DEFAULT_MIN_AGE
from gocua.synthetic import names
from gocua.synthetic.population import CommunePlan
from gocua.synthetic.writer import Clock, Table


def campaign_plan(*, province: AdminUnit, today: dt.date, window: int) -> Campaign:
    """The current campaign (campaigns.services.campaign_create): `window` days ending today,
    the seed's deadline (the end of the year) and targets (100 %, 100 %, 80 %).

    The generated province is what a demo or a benchmark looks at, so its campaign becomes
    the current one (another current campaign stays, no longer current)."""
    return campaign_create(
        name=f"Cao điểm {window} ngày VNeID mức 2 — {province.name}",
        province=province,
        start_date=today - dt.timedelta(days=window - 1),
        window_days=window,
        min_age=DEFAULT_MIN_AGE,
        target_registration=Decimal(1),
        target_activation=Decimal(1),
        target_usage=Decimal("0.8"),
        make_current=True,
    )


@dataclass
class Roster:
    """Who works where, for the visits and home-support requests."""

    hamlet_member: dict[int, int] = field(default_factory=dict)  # hamlet id → member id
    police: dict[int, list[int]] = field(default_factory=dict)  # commune id → police ids
    teams: dict[int, Team] = field(default_factory=dict)  # unit id → team
    members: dict[int, list[Member]] = field(default_factory=dict)  # unit id → members


def _member(rng: random.Random, team: Team, affiliation: str, leader: bool, year: int) -> Member:
    police = affiliation == Affiliation.POLICE
    sex = "M" if rng.random() < (0.8 if police else 0.5) else "F"
    year -= rng.randint(22, 48) if police else rng.randint(18, 30)
    return Member(
        team=team,
        full_name=names.full_name(rng, family=names.family_name(rng), sex=sex, birth_year=year),
        phone=names.phone(rng),
        affiliation=affiliation,
        is_leader=leader,
    )


def teams_create(
    rng: random.Random,
    *,
    campaign: Campaign,
    districts: list[AdminUnit],
    plans: list[CommunePlan],
    hamlets: dict[int, list[AdminUnit]],
    clock: Clock,
) -> Roster:
    """One team per district (police + youth by the campaign's rules, 10 + 10) and per commune
    (2 + 10), every member named with a phone (members in bulk, cleaned as member_add does:
    NFC names, normalised phones); the commune's hamlets are shared among its youth-union
    members so that every hamlet has someone and every volunteer has a hamlet."""
    units = [(d, campaign.district_team_police, campaign.district_team_youth) for d in districts]
    units += [
        (plan.unit, campaign.commune_team_police, campaign.commune_team_youth) for plan in plans
    ]
    teams_create_missing(campaign=campaign)  # one per district and commune, the app's names
    by_unit = {team.unit_id: team for team in Team.objects.filter(campaign=campaign)}
    teams = [by_unit[unit.id] for unit, _, _ in units]
    roster = Roster()
    members: list[Member] = []
    for team, (unit, police, youth) in zip(teams, units, strict=True):
        roster.teams[unit.id] = team
        year = clock.start.year
        crew = [_member(rng, team, Affiliation.POLICE, i == 0, year) for i in range(police)]
        crew += [_member(rng, team, Affiliation.YOUTH_UNION, False, year) for _ in range(youth)]
        roster.members[unit.id] = crew
        members += crew
    Member.objects.bulk_create(members)

    assignments = Table(Assignment, ["member_id", "hamlet_id", "assigned_at"])
    assigned_at = clock.at(8 * 3600)
    for plan in plans:
        crew = roster.members[plan.unit.id]
        roster.police[plan.unit.id] = [m.id for m in crew if m.affiliation == Affiliation.POLICE]
        volunteers = [m for m in crew if m.affiliation == Affiliation.YOUTH_UNION] or crew
        spots = hamlets[plan.unit.id]
        # k-th pair (hamlet k mod H, volunteer k mod V): unique pairs, nobody left out.
        for k in range(max(len(spots), len(volunteers))):
            hamlet, member = spots[k % len(spots)], volunteers[k % len(volunteers)]
            if k < len(spots):
                roster.hamlet_member[hamlet.id] = member.id
            assignments.add((member.id, hamlet.id, assigned_at))
    assignments.flush()
    return roster


_PLACES = (
    (OutreachEvent.Kind.MARKET, "Chợ {name}"),
    (OutreachEvent.Kind.SCHOOL, "Trường THPT {name}"),
    (OutreachEvent.Kind.AGENCY, "UBND {full}"),
    (OutreachEvent.Kind.BUSINESS, "Khu công nghiệp {name}"),
    (OutreachEvent.Kind.RESIDENTIAL, "Nhà văn hoá {full}"),
    (OutreachEvent.Kind.OTHER, "Chùa {name}"),
)
_ORGANISERS = (
    "Sở Thông tin và Truyền thông",
    "Sở Lao động - Thương binh và Xã hội",
    "Phòng Cảnh sát QLHC về TTXH, Công an tỉnh",
)
_TOPICS = (TrainingSession.Topic.PROCESS, TrainingSession.Topic.LAW, TrainingSession.Topic.FORMS)


def outreach_and_training(
    rng: random.Random,
    *,
    province: AdminUnit,
    districts: list[AdminUnit],
    plans: list[CommunePlan],
    roster: Roster,
    clock: Clock,
    window: int,
) -> dict[str, int]:
    """A few outreach events (markets, schools, agencies, industrial parks...) per district
    team and for some commune teams, and one training per district early in the window
    (per group of ten communes where the edition has no districts)."""
    events = _outreach_events(rng, districts=districts, plans=plans, roster=roster, clock=clock)
    OutreachEvent.objects.bulk_create(events)
    if districts:
        groups = [(d, [p for p in plans if p.district == d]) for d in districts]
    else:
        groups = [(province, plans[i : i + 10]) for i in range(0, len(plans), 10)]
    sessions, attendees = [], []
    for index, (unit, group) in enumerate(groups):
        session = TrainingSession(
            unit=unit,
            date=clock.day_date(rng.randint(1, min(10, window))),
            topic=_TOPICS[index % len(_TOPICS)],
            organiser=rng.choice(_ORGANISERS),
            note="Tập huấn quy trình thu nhận hồ sơ định danh điện tử mức 2",
        )
        sessions.append(session)
        crews = [roster.members.get(unit.id, [])] + [roster.members[p.unit.id] for p in group]
        attendees += [(session, a) for a in _attendances(rng, crews, group)]
    TrainingSession.objects.bulk_create(sessions)
    for session, attendance in attendees:
        attendance.session = session
    TrainingAttendance.objects.bulk_create([a for _, a in attendees], batch_size=1000)
    return {
        "outreach_events": len(events),
        "trainings": len(sessions),
        "training_attendances": len(attendees),
    }


def _outreach_events(
    rng: random.Random,
    *,
    districts: list[AdminUnit],
    plans: list[CommunePlan],
    roster: Roster,
    clock: Clock,
) -> list[OutreachEvent]:
    """Three outreach events per district team, one for about a third of the commune teams."""
    events = []
    hosts = [(d, 3) for d in districts] + [(p.unit, 1) for p in plans if rng.random() < 0.3]
    for unit, count in hosts:
        short = unit.name.split(" ", 1)[-1] if " " in unit.name else unit.name
        for _ in range(count):
            kind, place = rng.choice(_PLACES)
            reached = rng.randint(60, 600)
            dossiers = round(reached * rng.uniform(0.08, 0.3))
            events.append(
                OutreachEvent(
                    unit=unit,
                    team=roster.teams.get(unit.id),
                    kind=kind,
                    place=place.format(name=short, full=unit.name),
                    date=clock.day_date(rng.randint(1, clock.window - 1)),
                    people_reached=reached,
                    dossiers_collected=dossiers,
                    activations_helped=round(reached * rng.uniform(0.1, 0.4)),
                )
            )
    return events


def _attendances(
    rng: random.Random, crews: list[list], group: list[CommunePlan]
) -> list[TrainingAttendance]:
    """A training's attendances: the teams' members, then one or two commune staff without a
    roster entry per commune."""
    attendances = [
        TrainingAttendance(member=member, name=member.full_name, passed=rng.random() < 0.92)
        for crew in crews
        for member in crew
    ]
    for _commune in group:
        for _ in range(rng.randint(1, 2)):
            sex = "M" if rng.random() < 0.5 else "F"
            name = names.full_name(
                rng,
                family=names.family_name(rng),
                sex=sex,
                birth_year=1975 + rng.randint(0, 25),
            )
            attendances.append(
                TrainingAttendance(member=None, name=name, passed=rng.random() < 0.85)
            )
    return attendances
