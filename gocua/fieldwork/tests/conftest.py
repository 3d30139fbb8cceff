"""Fixtures of the field-work tests (pages and the phone's API): Vy's hamlet (Khu phố 1 of Xã A) with two households, a
household in Khu phố 2 (Xã A, not Vy's), one in Xã B (Charlie's commune), and Vu, a second
volunteer of Xã A who walks Khu phố 1 too."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from gocua.campaigns.tests.conftest import (  # noqa: F401
    campaign,
    household_factory,
    member_vy,
    team_a,
)
from gocua.campaigns.tests.factories import at_local


@pytest.fixture
def homes(tree, campaign, household_factory, resident_factory):  # noqa: F811
    """Households and residents (synthetic): `homes.h1` (An: none, Bình: registered, Cúc:
    used — no gap), `homes.h2` (Dũng: activated), `homes.kp2` (Em), `homes.xa_b` (Giang)."""
    h = type("Homes", (), {})()
    h.h1 = household_factory(tree.kp1, address="12 Hẻm 3")
    h.an = resident_factory(tree.kp1, name="Nguyễn Văn An", household=h.h1)
    h.binh = resident_factory(
        tree.kp1,
        name="Trần Thị Bình",
        sex="F",
        household=h.h1,
        stage="registered",
        born=dt.date(1950, 2, 1),
        elderly=True,
    )
    h.cuc = resident_factory(tree.kp1, name="Lê Thị Cúc", sex="F", household=h.h1, stage="used")
    h.h2 = household_factory(tree.kp1, address="14 Hẻm 3")
    h.dung = resident_factory(tree.kp1, name="Phạm Văn Dũng", household=h.h2, stage="activated")
    h.kp2 = household_factory(tree.kp2, address="3 Đường Số 2")
    h.em = resident_factory(tree.kp2, name="Võ Văn Em", household=h.kp2)
    h.xa_b = household_factory(tree.b_kp1, address="7 Đường Số 9")
    h.giang = resident_factory(tree.b_kp1, name="Đỗ Thị Giang", sex="F", household=h.xa_b)
    return h


@pytest.fixture
def vu(tree, campaign, team_a):  # noqa: F811
    """A second youth-union volunteer of Xã A, also walking Khu phố 1."""
    from gocua.accounts.models import User
    from gocua.campaigns.models import Assignment, Member

    user = User.objects.create_user(
        username="vu", password="pw-vu-2026", role="field_member", unit=tree.xa_a
    )
    member = Member.objects.create(
        team=team_a, full_name="Hồ Văn Vũ", affiliation="youth_union", user=user
    )
    Assignment.objects.create(member=member, hamlet=tree.kp1)
    user.member = member
    return user


@pytest.fixture
def api(client, token_for):
    """`api(user).get(path)`, `.post(path, data)`: JSON calls with the user's bearer token."""

    class Api:
        def __init__(self, user):
            self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token_for(user)}"}

        def get(self, path, **params):
            return client.get(path, params, **self.headers)

        def post(self, path, data=None, *, raw=None, **extra):
            body = raw if raw is not None else __import__("json").dumps(data or {})
            return client.post(path, body, content_type="application/json", **self.headers, **extra)

    return Api


def yesterday_at(hour=9, minute=0):
    """Yesterday, in the campaign and in the past whatever the hour the tests run."""
    return at_local(timezone.localdate() - dt.timedelta(days=1), hour, minute)


def visit(household, *outcomes, at=None, location=None, visit_id=None):
    """One visit of the sync contract; `outcomes` are (resident, outcome) pairs."""
    return {
        "id": str(visit_id or uuid.uuid4()),
        "household": household.pk if hasattr(household, "pk") else household,
        "at": (at or yesterday_at()).isoformat(),
        "outcomes": [
            {"resident": r.pk if hasattr(r, "pk") else r, "outcome": o, "note": ""}
            for r, o in outcomes
        ],
        "location": location,
    }
