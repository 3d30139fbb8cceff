import datetime as dt

import pytest
from django.utils import timezone


@pytest.fixture
def campaign(vy):
    """Vy's current campaign, moved so that today is inside it (10 days in)."""
    from gocua.campaigns.models import Campaign

    campaign = Campaign.objects.select_related("province").get(is_current=True)
    today = timezone.localdate()
    campaign.start_date = today - dt.timedelta(days=10)
    campaign.deadline = today + dt.timedelta(days=60)
    campaign.save()
    return campaign


@pytest.fixture
def team_a(campaign, tree):
    from gocua.campaigns.models import Team

    return Team.objects.select_related("campaign", "unit").get(campaign=campaign, unit=tree.xa_a)


@pytest.fixture
def member_vy(vy, campaign):
    from gocua.campaigns.models import Member

    return Member.objects.select_related("team__campaign", "team__unit").get(pk=vy.member.pk)


@pytest.fixture
def household_factory(db):
    from gocua.campaigns.tests.factories import make_household

    return make_household
