"""The offline page's tests use the field-work fixtures (gocua/fieldwork/tests/conftest.py)."""

from gocua.fieldwork.tests.conftest import (  # noqa: F401
    api,
    campaign,
    homes,
    household_factory,
    member_vy,
    team_a,
    vu,
)
