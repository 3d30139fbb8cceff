"""Each province runs its own current campaign: the first it creates is current; making another
current touches no other province; everything that asks for "the current campaign" gets the
one of the unit or user in question. Two provinces in one installation, side by side."""

import datetime as dt

import pytest
from django.utils import timezone

from conftest import make_resident
from gocua.accounts.models import User
from gocua.campaigns.models import Campaign, Member
from gocua.campaigns.selectors import current_campaign, current_campaign_for_user
from gocua.campaigns.services import campaign_create, campaign_make_current, user_create_assigned
from gocua.geo.models import AdminUnit
from gocua.lib.text import key
from gocua.people.models import Household

pytestmark = pytest.mark.django_db


def _unit(code, name, level, parent=None):
    path = f"{parent.path if parent else ''}{code}/"
    return AdminUnit.objects.create(
        edition=2023,
        code=code,
        name=name,
        level=level,
        parent=parent,
        path=path,
        depth=path.count("/") - 1,
        province_code=code[:2],
        name_key=key(name),
    )


@pytest.fixture
def two(tree, alice):
    """Tây Ninh (the conftest tree, Alice its admin) and Bình Phước with a commune and a
    hamlet, Bảo its admin."""
    bp = type("BP", (), {})()
    bp.province = _unit("70", "Tỉnh Bình Phước", "province")
    bp.district = _unit("689", "Thành phố Đồng Xoài", "district", bp.province)
    bp.commune = _unit("25195", "Phường Tân Phú", "commune", bp.district)
    bp.hamlet = _unit("25195-01", "Khu phố Tân Phú 1", "hamlet", bp.commune)
    bp.admin = User.objects.create_user("bao", role="province_admin", unit=bp.province)
    return tree, bp


def test_the_first_campaign_of_each_province_becomes_its_current(two, alice):
    tree, bp = two
    today = timezone.localdate()
    tn = campaign_create(
        name="Tây Ninh 60 ngày", province=tree.province, start_date=today, actor=alice
    )
    bpc = campaign_create(
        name="Bình Phước cao điểm",
        province=bp.province,
        start_date=today - dt.timedelta(days=5),
        actor=bp.admin,
    )
    assert tn.is_current and bpc.is_current
    assert current_campaign(tree.kp1) == tn and current_campaign(bp.hamlet) == bpc
    # A second Tây Ninh campaign made current leaves Bình Phước's alone.
    later = campaign_create(
        name="Tây Ninh đợt 2",
        province=tree.province,
        start_date=today + dt.timedelta(days=30),
        actor=alice,
    )
    assert not later.is_current  # only the first is current by itself
    campaign_make_current(campaign=later, actor=alice)
    assert set(Campaign.objects.filter(is_current=True)) == {later, bpc}
    assert current_campaign_for_user(alice) == later
    assert current_campaign_for_user(bp.admin) == bpc


def test_an_admin_cannot_touch_the_other_provinces_campaign(two, alice, client):
    tree, bp = two
    bpc = campaign_create(
        name="Bình Phước", province=bp.province, start_date=timezone.localdate(), actor=bp.admin
    )
    client.force_login(alice)
    assert client.get(f"/campaigns/{bpc.pk}/").status_code == 404
    assert client.post(f"/campaigns/{bpc.pk}/current/").status_code == 404
    assert "Bình Phước" not in client.get("/campaigns/").content.decode()


def test_two_provinces_run_side_by_side(two, alice, client):
    """Each province's volunteers are assigned in its own campaign; each dashboard shows its
    own campaign and counts only its own residents."""
    tree, bp = two
    today = timezone.localdate()
    campaign_create(
        name="Tây Ninh 60 ngày",
        province=tree.province,
        start_date=today - dt.timedelta(days=3),
        actor=alice,
    )
    campaign_create(
        name="Bình Phước cao điểm",
        province=bp.province,
        start_date=today - dt.timedelta(days=9),
        actor=bp.admin,
    )
    password = "mật-khẩu-dài-2026"
    an = user_create_assigned(
        username="an", role="field_member", unit=tree.xa_a, password=password, hamlets="all"
    )
    binh = user_create_assigned(
        username="binh", role="field_member", unit=bp.commune, password=password, hamlets="all"
    )
    assert Member.objects.get(user=an).team.campaign.name == "Tây Ninh 60 ngày"
    assert Member.objects.get(user=binh).team.campaign.name == "Bình Phước cao điểm"
    home_tn = Household.objects.create(unit=tree.kp1, address="1 Hẻm 3", province_code="72")
    home_bp = Household.objects.create(unit=bp.hamlet, address="2 Phú Riềng", province_code="70")
    make_resident(tree.kp1, name="Người Tây Ninh", household=home_tn)
    bp_person = make_resident(bp.hamlet, name="Người Bình Phước", household=home_bp)
    bp_person.province_code = "70"
    bp_person.save(update_fields=["province_code"])

    client.force_login(binh)
    assert client.get("/field/").status_code == 200
    listing = client.get("/fieldwork/worklist/").content.decode()
    assert "Người Bình Phước" in listing and "Người Tây Ninh" not in listing
    client.force_login(bp.admin)
    page = client.get(f"/dashboard/2023/{bp.province.code}/").content.decode()
    assert "Bình Phước cao điểm" in page and "Tây Ninh 60 ngày" not in page
    client.force_login(alice)
    page = client.get(f"/dashboard/2023/{tree.province.code}/").content.decode()
    assert "Tây Ninh 60 ngày" in page and "Bình Phước cao điểm" not in page
