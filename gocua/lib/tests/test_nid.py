import pytest

from gocua.lib import nid


def test_it_accepts_a_valid_number():
    assert nid.normalize("072090001234") == "072090001234"


def test_it_restores_the_zero_an_excel_number_cell_dropped():
    assert nid.normalize(72090001234) == "072090001234"
    assert nid.normalize(72090001234.0) == "072090001234"
    assert nid.normalize("72090001234") == "072090001234"


def test_it_restores_two_zeros_for_provinces_001_to_009():
    assert nid.normalize(1090001234) == "001090001234"


def test_it_refuses_an_unknown_province_code():
    with pytest.raises(nid.NationalIdError, match="mã tỉnh 003 không tồn tại"):
        nid.normalize("003090001234")


def test_it_refuses_wrong_lengths_and_letters():
    with pytest.raises(nid.NationalIdError, match="có 13 chữ số, phải đủ 12"):
        nid.normalize("0720900012345")
    with pytest.raises(nid.NationalIdError, match="có 9 chữ số, phải đủ 12"):
        nid.normalize("720900012")
    with pytest.raises(nid.NationalIdError, match="chỉ được gồm chữ số"):
        nid.normalize("07209000123A")
    with pytest.raises(nid.NationalIdError, match="bị trống"):
        nid.normalize("")


def test_it_checks_the_sex_and_century_digit():
    nid.check_against("072090001234", birth_year=1990, sex="M")
    nid.check_against("072195001235", birth_year=1995, sex="F")
    nid.check_against("072205001235", birth_year=2005, sex="M")
    with pytest.raises(nid.NationalIdError, match="là của nữ, nhưng dòng ghi giới tính nam"):
        nid.check_against("072190001234", birth_year=1990, sex="M")
    with pytest.raises(nid.NationalIdError, match="là của người sinh 2000–2099"):
        nid.check_against("072290001234", birth_year=1990, sex="M")


def test_it_checks_the_year_digits():
    with pytest.raises(nid.NationalIdError, match="chữ số thứ 5–6 \\(91\\)"):
        nid.check_against("072091001234", birth_year=1990, sex="M")


def test_it_masks_all_but_province_and_last_three():
    assert nid.mask("072090001891") == "072******891"


def test_make_builds_numbers_that_pass_every_rule():
    number = nid.make(province_code="072", sex="F", birth_year=2003, serial=42)
    assert number == "072303000042"
    nid.check_against(nid.normalize(number), birth_year=2003, sex="F")


def test_digits_for_gives_exactly_the_digits_check_against_accepts():
    def accepted(number, year, sex):
        try:
            nid.check_against(number, birth_year=year, sex=sex)
        except nid.NationalIdError:
            return False
        return True

    for year in [1850, 1899, 1900, 1955, 1999, 2000, 2024, 2099, 2100, 2199, 2399, 2400]:
        for sex in "MF":
            for middle in (f"{d}{yy:02d}" for d in range(10) for yy in range(100)):
                number = f"072{middle}001234"
                assert (middle == nid.digits_for(year, sex)) == accepted(number, year, sex), (
                    number,
                    year,
                    sex,
                )
