"""Column names as offices write them, in English or Vietnamese."""

from django.utils.translation import gettext_lazy as _

from gocua.lib.text import fold

# field -> header spellings (compared after folding case, spacing and diacritics)
ALIASES: dict[str, tuple[str, ...]] = {
    "national_id": (
        "national_id",
        "national id",
        "nid",
        "so dinh danh ca nhan",
        "so dinh danh",
        "so cccd",
        "cccd",
        "so can cuoc",
        "so can cuoc cong dan",
        "so cmnd/cccd",
        "so cmnd cccd",
        "ma dinh danh",
        "so ddcn",
    ),
    "full_name": ("full_name", "full name", "name", "ho va ten", "ho ten", "ho ten cong dan"),
    "birth_date": (
        "birth_date",
        "birth date",
        "date of birth",
        "dob",
        "ngay sinh",
        "ngay thang nam sinh",
        "nam sinh",
    ),
    "sex": ("sex", "gender", "gioi tinh"),
    "phone": ("phone", "phone number", "mobile", "so dien thoai", "dien thoai", "sdt", "so dt"),
    "unit_code": (
        "unit_code",
        "unit code",
        "commune_code",
        "ward_code",
        "ma xa",
        "ma don vi",
        "ma phuong xa",
        "ma dvhc",
        "ma xa phuong",
    ),
    "hamlet": (
        "hamlet",
        "ap",
        "khu pho",
        "thon",
        "to dan pho",
        "ap/khu pho",
        "ap khu pho",
        "thon/to dan pho",
        "thon to dan pho",
        "ap/kp",
        "ap kp",
        "xom",
        "ban",
        "khom",
    ),
    "household_id": (
        "household_id",
        "household id",
        "household",
        "ma ho",
        "so ho",
        "ma ho gia dinh",
    ),
    "address": ("address", "dia chi", "noi o hien tai", "dia chi thuong tru", "noi thuong tru"),
    "eid_stage": (
        "eid_stage",
        "eid stage",
        "stage",
        "trang thai",
        "trang thai vneid",
        "trang thai tai khoan",
    ),
    "eid_level": ("eid_level", "eid level", "level", "muc do", "muc do tai khoan", "muc"),
    "stage_at": (
        "stage_at",
        "stage at",
        "ngay cap nhat",
        "thoi gian cap nhat",
        "ngay trang thai",
        "thoi diem",
    ),
    "last_used_at": (
        "last_used_at",
        "last used at",
        "lan su dung cuoi",
        "ngay su dung gan nhat",
        "su dung lan cuoi",
    ),
    "row_number": ("stt", "tt", "so tt", "so thu tu", "no", "#"),
}

_LOOKUP = {fold(alias): field for field, names in ALIASES.items() for alias in names}


def field_for(header: object) -> str | None:
    if header is None:
        return None
    return _LOOKUP.get(fold(str(header)))


REQUIRED = {
    "citizens": ("national_id", "full_name", "birth_date", "sex", "unit_code"),
    "stages": ("national_id", "eid_stage"),
}


def field_label(field: str) -> str:
    """The column an official knows a field by, in the user's language (the rejects file says
    which column is at fault): 'national_id' → 'Số định danh cá nhân'."""
    label = FIELD_LABELS.get(field)
    return str(label) if label is not None else field


FIELD_LABELS = {
    "national_id": _("Số định danh cá nhân"),
    "full_name": _("Họ và tên"),
    "birth_date": _("Ngày sinh"),
    "sex": _("Giới tính"),
    "phone": _("Số điện thoại"),
    "unit_code": _("Mã xã"),
    "hamlet": _("Ấp/Khu phố"),
    "household_id": _("Mã hộ"),
    "address": _("Địa chỉ"),
    "eid_stage": _("Trạng thái"),
    "eid_level": _("Mức độ"),
    "stage_at": _("Ngày cập nhật"),
    "last_used_at": _("Lần sử dụng cuối"),
    "row": _("Cả dòng"),
}
