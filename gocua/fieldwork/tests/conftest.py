# The campaign fixtures are shared with the campaigns tests.
from gocua.campaigns.tests.conftest import (  # noqa: F401
    campaign,
    household_factory,
    member_vy,
    team_a,
)
