import pytest

from gocua.geo.models import AdminUnit
from gocua.geo.selectors import EditionError, resolve_edition, units_in_subtree
from gocua.geo.services import UnitError, hamlet_get_or_create, hamlets_ensure, units_load

pytestmark = pytest.mark.django_db


def test_it_loads_tay_ninh_2023_as_province_districts_communes():
    counts = units_load(province_code="72", edition=2023)
    assert counts == {"province": 1, "district": 9, "commune": 94}
    province = AdminUnit.objects.get(edition=2023, code="72")
    assert province.name == "Tỉnh Tây Ninh" and province.level == "province"
    phuong3 = AdminUnit.objects.get(edition=2023, code="25459")
    assert phuong3.name == "Phường 3" and phuong3.parent.code == "703"
    assert phuong3.path == "72/703/25459/" and phuong3.depth == 2
    assert phuong3.lat and phuong3.lon


@pytest.mark.parametrize(
    "province, island", [("77", "755"), ("31", "318"), ("45", "471"), ("48", "498"), ("51", "536")]
)
def test_an_island_district_without_communes_is_loaded_as_a_district(province, island):
    """Côn Đảo, Bạch Long Vĩ, Cồn Cỏ, Hoàng Sa, Lý Sơn (2023): a district and no commune row."""
    counts = units_load(province_code=province, edition=2023)
    district = AdminUnit.objects.get(edition=2023, code=island)
    assert district.level == "district" and district.parent.code == province
    assert not AdminUnit.objects.filter(parent=district).exists()
    assert counts["commune"] == AdminUnit.objects.filter(edition=2023, level="commune").count() > 0


def test_it_loads_tay_ninh_2025_as_province_and_communes():
    counts = units_load(province_code="80", edition=2025)
    assert counts == {"province": 1, "district": 0, "commune": 96}
    tan_ninh = AdminUnit.objects.get(edition=2025, code="25459")
    assert tan_ninh.name == "Phường Tân Ninh" and tan_ninh.parent.code == "80"
    assert tan_ninh.area_km2 > 0


def test_both_editions_live_in_one_database_though_codes_repeat():
    units_load(province_code="72", edition=2023)
    units_load(province_code="80", edition=2025)
    names = dict(AdminUnit.objects.filter(code="25459").values_list("edition", "name"))
    assert names == {2023: "Phường 3", 2025: "Phường Tân Ninh"}
    with pytest.raises(EditionError, match="say which with --edition"):
        resolve_edition(None)
    assert resolve_edition(2025) == 2025


def test_loading_again_changes_nothing():
    units_load(province_code="72", edition=2023)
    before = list(AdminUnit.objects.order_by("id").values())
    units_load(province_code="72", edition=2023)
    assert list(AdminUnit.objects.order_by("id").values()) == before


def test_it_refuses_an_unknown_province():
    with pytest.raises(UnitError, match="no province with code 99"):
        units_load(province_code="99", edition=2023)
    with pytest.raises(UnitError, match="2 digits"):
        units_load(province_code="72' OR 1=1", edition=2023)


def test_a_subtree_is_one_path_query(django_assert_num_queries):
    units_load(province_code="72", edition=2023)
    city = AdminUnit.objects.get(edition=2023, code="703")
    with django_assert_num_queries(1):
        codes = [u.code for u in units_in_subtree(city)]
    assert codes[0] == "703" and len(codes) == 11  # the city and its 10 wards and communes


def test_hamlets_are_matched_by_name_ignoring_case_and_diacritics():
    units_load(province_code="72", edition=2023)
    commune = AdminUnit.objects.get(edition=2023, code="25456")
    kp1 = hamlet_get_or_create(commune=commune, name="Khu phố 1")
    assert hamlet_get_or_create(commune=commune, name="khu  pho 1") == kp1
    assert (kp1.code, kp1.kind, kp1.level, kp1.path) == (
        "25456-01",
        "Khu phố",
        "hamlet",
        "72/703/25456/25456-01/",
    )
    found = hamlets_ensure([(commune, "KHU PHỐ 1"), (commune, "Khu phố 2")])
    assert found[(commune.id, "khupho1")] == kp1
    assert found[(commune.id, "khupho2")].code == "25456-02"
