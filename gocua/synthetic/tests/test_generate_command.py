"""`gocua generate`: refusals with status 2 and no traceback, --replace, the summary."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gocua.people.models import Resident


def test_it_refuses_a_province_whose_units_are_not_loaded(province, db):
    with pytest.raises(CommandError) as excinfo:
        call_command(
            "generate", "--province", "70", "--edition", "2023", "--people", "10", "--seed", "1"
        )
    assert excinfo.value.returncode == 2
    assert "gocua units load --province 70 --edition 2023" in str(excinfo.value)


def test_it_refuses_to_add_to_an_existing_population(province, db):
    with pytest.raises(CommandError) as excinfo:
        call_command(
            "generate", "--province", "72", "--edition", "2023", "--people", "10", "--seed", "1"
        )
    assert excinfo.value.returncode == 2
    assert "--replace" in str(excinfo.value)
    assert Resident.objects.count() == province.people


def test_it_replaces_the_population_and_prints_a_json_summary(province, db, capsys):
    call_command(
        "generate",
        "--province",
        "72",
        "--edition",
        "2023",
        "--people",
        "500",
        "--seed",
        "3",
        "--replace",
        "--json",
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["residents"] == Resident.objects.count() == 500
    assert summary["replaced"] == province.people
    assert summary["households"] > 100 and summary["stage_events"] > 500
