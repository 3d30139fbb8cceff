import datetime as dt
from decimal import Decimal

import pytest

from gocua.campaigns import services
from gocua.campaigns.models import Campaign
from gocua.campaigns.selectors import campaign_period, campaigns_for_user, target_for
from gocua.campaigns.services import NotAllowed, OperationRefused


def test_it_creates_a_plan_with_seed_defaults(alice, tree):
    campaign = services.campaign_create(
        name="Cao điểm 60 ngày",
        province=tree.province,
        start_date=dt.date(2026, 10, 1),
        actor=alice,
    )
    assert campaign.window_days == 60
    assert campaign.window_end == dt.date(2026, 11, 29)
    assert campaign.deadline == dt.date(2026, 12, 31)
    assert campaign.min_age == 14
    assert (campaign.commune_team_police, campaign.commune_team_youth) == (2, 10)
    assert (campaign.district_team_police, campaign.district_team_youth) == (10, 10)
    assert campaign_period(campaign) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))


def test_it_refuses_a_deadline_before_the_start(alice, tree):
    with pytest.raises(OperationRefused) as exc:
        services.campaign_create(
            name="x",
            province=tree.province,
            start_date=dt.date(2026, 10, 1),
            deadline=dt.date(2026, 9, 1),
            actor=alice,
        )
    assert exc.value.field == "deadline"
    assert "01/10/2026" in exc.value.message


def test_it_refuses_targets_above_100_percent(alice, tree):
    with pytest.raises(OperationRefused) as exc:
        services.campaign_create(
            name="x",
            province=tree.province,
            start_date=dt.date(2026, 10, 1),
            target_activation=Decimal("1.2"),
            actor=alice,
        )
    assert exc.value.field == "target_activation"


def test_it_lets_only_province_admins_plan(bob, dan, olivia, tree):
    for user in (bob, dan, olivia):
        with pytest.raises(NotAllowed):
            services.campaign_create(
                name="x", province=tree.province, start_date=dt.date(2026, 10, 1), actor=user
            )
    assert not Campaign.objects.exists()


def test_it_keeps_one_current_campaign(alice, tree):
    first = services.campaign_create(
        name="Đợt 1",
        province=tree.province,
        start_date=dt.date(2026, 1, 1),
        make_current=True,
        actor=alice,
    )
    second = services.campaign_create(
        name="Đợt 2", province=tree.province, start_date=dt.date(2026, 10, 1), actor=alice
    )
    services.campaign_make_current(campaign=second, actor=alice)
    first.refresh_from_db()
    assert not first.is_current
    assert list(Campaign.objects.filter(is_current=True)) == [second]


def test_it_updates_fields_and_validates(alice, tree):
    campaign = services.campaign_create(
        name="Đợt 1", province=tree.province, start_date=dt.date(2026, 10, 1), actor=alice
    )
    services.campaign_update(campaign=campaign, min_age=15, target_usage=0.5, actor=alice)
    campaign.refresh_from_db()
    assert campaign.min_age == 15
    assert campaign.target_usage == Decimal("0.5")
    with pytest.raises(OperationRefused):
        services.campaign_update(campaign=campaign, window_days=0, actor=alice)


def test_it_applies_the_nearest_unit_target_override(alice, tree):
    campaign = services.campaign_create(
        name="Đợt 1",
        province=tree.province,
        start_date=dt.date(2026, 10, 1),
        target_activation=Decimal("0.9"),
        actor=alice,
    )
    services.unit_target_set(
        campaign=campaign, unit=tree.district, metric="activation", value=0.7, actor=alice
    )
    services.unit_target_set(
        campaign=campaign, unit=tree.xa_a, metric="activation", value=0.6, actor=alice
    )
    assert target_for(campaign, tree.kp1, "activation") == pytest.approx(0.6)
    assert target_for(campaign, tree.xa_b, "activation") == pytest.approx(0.7)
    assert target_for(campaign, tree.xa_c, "activation") == pytest.approx(0.9)
    # Setting it again replaces the override.
    services.unit_target_set(
        campaign=campaign, unit=tree.xa_a, metric="activation", value=0.65, actor=alice
    )
    assert campaign.unit_targets.count() == 2


def test_it_shows_campaigns_of_the_users_province_only(alice, bob, charlie, olivia, tree):
    campaign = services.campaign_create(
        name="Đợt 1", province=tree.province, start_date=dt.date(2026, 10, 1), actor=alice
    )
    for user in (alice, bob, charlie, olivia):
        assert list(campaigns_for_user(user)) == [campaign]
