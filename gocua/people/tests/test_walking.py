"""The walking-order key: hamlets, streets and house numbers in the order a team walks them."""

import pytest

from conftest import make_resident
from gocua.people.models import Household
from gocua.people.walking import address_parse, household_walk_key

HAMLET = "72/703/25456/25456-01/"


def walked(addresses: list[str], *, hamlet: str = "Khu phố 1") -> list[str]:
    def key(address: str) -> str:
        return household_walk_key(
            address=address, unit_path=HAMLET, unit_name=hamlet, is_hamlet=True
        )

    return sorted(addresses, key=key)


def test_house_numbers_come_in_natural_order():
    assert walked(["Số 40", "Số 39", "Số 4", "4A", "12/3A", "10", "12/3", "12", "9"]) == [
        "Số 4",
        "4A",
        "9",
        "10",
        "12",
        "12/3",
        "12/3A",
        "Số 39",
        "Số 40",
    ]


def test_streets_are_walked_one_after_the_other_numbers_in_order_inside_each():
    addresses = [
        "38 Nguyễn Văn Linh",
        "4 Nguyễn Du",
        "159 Nam Kỳ Khởi Nghĩa",
        "38 Nguyễn Du",
        "Số 4 đường Nguyễn Văn Linh, Khu phố 1",
        "264 Nguyễn Văn Linh",
        "Nguyễn Du",
    ]
    assert walked(addresses) == [
        "159 Nam Kỳ Khởi Nghĩa",
        "4 Nguyễn Du",
        "38 Nguyễn Du",
        "Nguyễn Du",
        "Số 4 đường Nguyễn Văn Linh, Khu phố 1",
        "38 Nguyễn Văn Linh",
        "264 Nguyễn Văn Linh",
    ]


def test_groups_and_alleys():
    addresses = ["Tổ 5", "Số 12, tổ 5, Ấp 2", "Số 3, tổ 5", "Số 1, tổ 10", "Hẻm 7", "Số 8"]
    assert walked(addresses) == [
        "Hẻm 7",
        "Số 8",
        "Số 3, tổ 5",
        "Số 12, tổ 5, Ấp 2",
        "Tổ 5",
        "Số 1, tổ 10",
    ]
    # A house in an alley is walked from the alley's number on the street.
    assert walked(["9 Lê Lợi", "5 hẻm 7 Lê Lợi", "7 Lê Lợi", "3 Lê Lợi"]) == [
        "3 Lê Lợi",
        "7 Lê Lợi",
        "5 hẻm 7 Lê Lợi",
        "9 Lê Lợi",
    ]


@pytest.mark.parametrize(
    "address, street, number",
    [
        ("Số 4", "", "4"),
        ("4A", "", "4a"),
        ("12/3A Trần Hưng Đạo", "tran hung dao", "12/3a"),
        ("Số 4 đường Lê Lợi, Khu phố 1", "le loi", "4"),
        ("Số nhà 17, đường số 10, Ấp 2, xã Tân Bình", "so 10", "17"),
        ("Số 12, tổ 3, Ấp 2", "to 3", "12"),
        ("5 hẻm 7 Lê Lợi", "le loi", "7/5"),
        ("Tổ 5", "to 5", ""),
        ("Hẻm 7", "", "7"),
        ("Xa lộ Hà Nội, P. 3", "xa lo ha noi", ""),
        ("Nhà ông Bảy, gần chợ", "nha ong bay gan cho", ""),
    ],
)
def test_it_reads_street_and_number_from_the_forms_addresses_take(address, street, number):
    parsed = address_parse(address, hamlet_name="Khu phố 1")
    assert (parsed.street, parsed.number) == (street, number)


def test_no_number_is_last_in_its_street_and_no_address_last_in_the_hamlet():
    assert walked(["", "Lê Lợi", "Nhà văn hóa", "2 Lê Lợi", "Số 3"]) == [
        "Số 3",
        "2 Lê Lợi",
        "Lê Lợi",
        "Nhà văn hóa",
        "",
    ]


def test_hamlets_in_natural_order_then_households_filed_under_the_commune():
    def key(path, name, is_hamlet=True):
        return household_walk_key(
            address="Số 1", unit_path=path, unit_name=name, is_hamlet=is_hamlet
        )

    keys = [
        key("72/703/25456/25456-03/", "Ấp 10"),
        key("72/703/25456/", "Phường 1", is_hamlet=False),
        key("72/703/25456/25456-01/", "Ấp 2"),
        key("72/703/25459/25459-01/", "Ấp 1"),
        key("72/703/25456/25456-02/", "Ấp Bình Hòa"),
    ]
    assert [keys.index(k) for k in sorted(keys)] == [2, 0, 4, 1, 3]


def test_every_orm_write_stores_the_key(tree):
    home = Household.objects.create(unit=tree.kp1, address="Số 39", province_code="72")
    first = home.walk_key
    assert first.startswith(tree.xa_a.path) and first.endswith(" 239")
    home.address = "Số 4"
    home.save(update_fields=["address"])
    home.refresh_from_db()
    assert home.walk_key.endswith(" 14")
    home.unit = tree.kp2
    home.save()
    home.refresh_from_db()
    assert home.walk_key != first.replace(" 239", " 14") and "khu.pho.12" in home.walk_key


def test_the_search_form_of_a_name_is_stored_with_it(tree):
    resident = make_resident(tree.kp1, name="Đỗ Thị Ánh")
    assert resident.name_search == "do thi anh"
    resident.full_name = "Đỗ Thị Ánh Nguyệt"
    resident.save(update_fields=["full_name"])
    resident.refresh_from_db()
    assert resident.name_search == "do thi anh nguyet"
