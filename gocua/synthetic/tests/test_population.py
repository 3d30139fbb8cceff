"""Households, hamlets and people: the shapes a commune officer would recognise."""

import datetime as dt
import re
import unicodedata
from collections import Counter, defaultdict

from django.db.models import F

from gocua.geo.models import AdminUnit
from gocua.geo.services import hamlet_get_or_create
from gocua.lib.phone import normalize as phone_normalize
from gocua.lib.text import key
from gocua.people.models import Household, Resident


def _age(born: dt.date, today: dt.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def test_it_groups_residents_in_households_of_about_three_and_a_half(province, db):
    sizes = Counter(
        Resident.objects.filter(unit__path__startswith=province.unit.path).values_list(
            "household_id", flat=True
        )
    )
    assert Household.objects.filter(unit__path__startswith=province.unit.path).count() == len(sizes)
    mean = sum(sizes.values()) / len(sizes)
    assert 3.3 <= mean <= 3.7
    assert min(sizes.values()) >= 1 and max(sizes.values()) <= 8
    # Members live in their household's hamlet.
    assert (
        not Resident.objects.filter(unit__path__startswith=province.unit.path)
        .exclude(household__unit_id=F("unit_id"))
        .exists()
    )


def test_it_names_hamlets_by_the_kind_of_commune(province, db):
    communes = AdminUnit.objects.filter(
        edition=2023, level="commune", path__startswith=province.unit.path
    )
    for commune in communes:
        hamlets = list(commune.children.order_by("code"))
        assert 5 <= len(hamlets) <= 20
        word = "Khu phố" if commune.kind == "Phường" else "Ấp"
        for number, hamlet in enumerate(hamlets, start=1):
            assert hamlet.name == f"{word} {number}"
            assert hamlet.kind == word
            assert hamlet.code == f"{commune.code}-{number:02d}"
            assert hamlet.path == f"{commune.path}{hamlet.code}/"
            assert hamlet.depth == commune.depth + 1
            assert hamlet.name_key == key(hamlet.name)
            assert hamlet.province_code == commune.province_code == "72"
    sample = communes.first()
    hamlet = sample.children.order_by("code").first()
    assert hamlet_get_or_create(commune=sample, name=hamlet.name.upper()) == hamlet


def test_it_spreads_people_unevenly_over_communes_and_near_their_centroid(province, db):
    per_commune = Counter(
        Resident.objects.filter(unit__path__startswith=province.unit.path).values_list(
            "unit__parent__code", flat=True
        )
    )
    assert len(per_commune) == 94
    assert max(per_commune.values()) > 3 * min(per_commune.values())
    for household in Household.objects.filter(unit__path__startswith=province.unit.path)[:500]:
        commune = household.unit.parent
        assert abs(household.lat - commune.lat) < 0.2 and abs(household.lon - commune.lon) < 0.2
        assert household.address.endswith(household.unit.name)


def test_it_draws_a_vietnamese_population(province, db):
    today = province.today
    people = list(
        Resident.objects.filter(unit__path__startswith=province.unit.path).values(
            "full_name",
            "birth_date",
            "birth_year_only",
            "phone",
            "elderly",
            "no_smartphone",
            "away",
            "deceased",
            "moved_out",
            "disabled",
            "household_id",
        )
    )
    n = len(people)
    ages = [_age(p["birth_date"], today) for p in people]
    assert 0.20 <= sum(a < 14 for a in ages) / n <= 0.29  # GSO 2023: about 24 % under 15
    assert 0.10 <= sum(a >= 60 for a in ages) / n <= 0.18  # and about 13 % aged 60+
    assert all(p["elderly"] == (a >= 60) for p, a in zip(people, ages, strict=True))
    assert all(a <= 100 for a in ages)
    year_only = [p for p in people if p["birth_year_only"]]
    assert year_only and all(p["birth_date"].month == p["birth_date"].day == 1 for p in year_only)
    assert min(_age(p["birth_date"], today) for p in year_only) >= 65
    for p in people:
        name = p["full_name"]
        assert name == unicodedata.normalize("NFC", name)
        assert len(name.split()) >= 3 and not re.search(r"\d", name)
        if p["phone"]:
            assert phone_normalize(p["phone"]) == p["phone"]
    assert (
        0.02 < sum(not p["phone"] for p in people if _age(p["birth_date"], today) >= 18) / n < 0.15
    )
    phones = defaultdict(set)
    for p in people:
        if p["phone"]:
            phones[p["phone"]].add(p["household_id"])
    shared = [h for h in phones.values() if len(h) == 1]
    assert len(phones) < sum(1 for p in people if p["phone"])  # some numbers are shared
    assert len(shared) == len(phones)  # ... within a household only
    for flag, low, high in (
        ("no_smartphone", 0.03, 0.15),
        ("away", 0.02, 0.1),
        ("disabled", 0.002, 0.03),
        ("deceased", 0.0, 0.01),
        ("moved_out", 0.0, 0.01),
    ):
        share = sum(p[flag] for p in people) / n
        assert low <= share <= high, (flag, share)
    assert any(p["deceased"] for p in people) and any(p["moved_out"] for p in people)
