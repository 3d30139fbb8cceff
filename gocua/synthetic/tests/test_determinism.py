"""The same seed gives the same database contents; another seed does not."""

from gocua.synthetic.services import province_generate


def test_it_gives_the_same_rows_for_the_same_seed(province, db, province_digest):
    first = province_digest(province.unit)
    province_generate(
        province_code="72",
        edition=2023,
        people=province.people,
        seed=province.seed,
        today=province.today,
        replace=True,
    )
    assert province_digest(province.unit) == first
    province_generate(
        province_code="72",
        edition=2023,
        people=province.people,
        seed=province.seed + 1,
        today=province.today,
        replace=True,
    )
    assert province_digest(province.unit) != first
