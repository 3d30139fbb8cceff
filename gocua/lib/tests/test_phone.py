import pytest

from gocua.lib import phone


@pytest.mark.parametrize(
    "raw",
    [
        "0912345678",
        "+84 912 345 678",
        "84912345678",
        "0912.345.678",
        "0912-345-678",
        "(091) 234 5678",
        912345678,
        "912345678",
    ],
)
def test_it_normalises_to_ten_digits(raw):
    assert phone.normalize(raw) == "0912345678"


def test_it_keeps_empty_as_empty():
    assert phone.normalize("") == ""
    assert phone.normalize(None) == ""


def test_it_refuses_an_unknown_mobile_prefix():
    with pytest.raises(phone.PhoneError, match="đầu số 011 không phải đầu số di động Việt Nam"):
        phone.normalize("0111222333")


def test_it_refuses_wrong_lengths():
    with pytest.raises(phone.PhoneError, match="có 11 chữ số, số di động phải có 10"):
        phone.normalize("09123456789")


def test_it_masks():
    assert phone.mask("0912345123") == "09*****123"
