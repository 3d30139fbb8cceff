"""The audit log as an official reads it: actions and objects by their Vietnamese names, and an
account by its holder's name rather than "user 1".

Entries keep the short codes they were written with (scripts filter on them); only what is shown
or exported is worded here. A code without a label (an older or unexpected one) is shown as it
is, never dropped."""

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

from gocua.accounts.models import AuditEntry, User

ACTION_LABELS = {
    "create": _("Tạo mới"),
    "update": _("Sửa"),
    "delete": _("Xoá"),
    "deactivate": _("Khoá tài khoản"),
    "import": _("Nhập tệp"),
    "export": _("Xuất số liệu"),
    "view": _("Xem"),
    "login": _("Đăng nhập"),
    "logout": _("Đăng xuất"),
    "login_code": _("Cấp mã đăng nhập"),
    "login_code_used": _("Dùng mã đăng nhập"),
    "password_change": _("Đổi mật khẩu"),
    "token_create": _("Cấp quyền cho điện thoại"),
    "token_revoke": _("Thu hồi quyền của điện thoại"),
    "tokens_revoke": _("Thu hồi quyền của mọi điện thoại"),
    "backup": _("Sao lưu dữ liệu"),
    "restore": _("Khôi phục dữ liệu"),
}

OBJECT_LABELS = {
    "user": _("Tài khoản"),
    "api_token": _("Quyền đăng nhập của điện thoại"),
    "audit_log": _("Nhật ký truy cập"),
    "campaign": _("Chiến dịch"),
    "unittarget": _("Chỉ tiêu đơn vị"),
    "team": _("Tổ"),
    "member": _("Thành viên tổ"),
    "assignment": _("Phân công"),
    "resident": _("Người dân"),
    "residents": _("Người dân"),
    "resident_list": _("Danh sách người dân"),
    "resident_moves": _("Chuyển nơi ở"),
    "household": _("Hộ"),
    "worklist": _("Danh sách việc"),
    "visit": _("Lượt thăm hộ"),
    "visit_batch": _("Lô lượt thăm hộ"),
    "followup": _("Việc cần làm tiếp"),
    "follow_ups": _("Việc cần làm tiếp"),
    "homesupportrequest": _("Hỗ trợ tại nhà"),
    "home_support": _("Hỗ trợ tại nhà"),
    "outreachevent": _("Buổi tuyên truyền"),
    "trainingsession": _("Buổi tập huấn"),
    "import_job": _("Lượt nhập tệp"),
    "import_rejects": _("Dòng bị từ chối"),
    "kpi_report": _("Báo cáo chỉ tiêu"),
    "daily_snapshot": _("Số liệu theo ngày"),
    "database": _("Cơ sở dữ liệu"),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def object_label(object_type: str) -> str:
    label = OBJECT_LABELS.get(object_type)
    return str(label) if label is not None else object_type


class AccountNames:
    """'Nguyễn Văn An (an.nv)' for the accounts entries name, looked up once each."""

    def __init__(self) -> None:
        self._names: dict[str, str] = {}

    def load(self, entries: Iterable[AuditEntry]) -> None:
        wanted = {
            e.object_id
            for e in entries
            if e.object_type == "user" and e.object_id.isdigit() and e.object_id not in self._names
        }
        if not wanted:
            return
        for pk, username, full_name in User.objects.filter(
            pk__in=[int(i) for i in wanted]
        ).values_list("pk", "username", "full_name"):
            self._names[str(pk)] = f"{full_name} ({username})" if full_name else username
        for missing in wanted - self._names.keys():
            self._names[missing] = str(_("tài khoản đã xoá (số %(id)s)") % {"id": missing})

    def object_name(self, entry: AuditEntry) -> str:
        """What the entry is about, in words: the account's holder, else the object's number."""
        if entry.object_type == "user":
            if entry.object_id not in self._names:
                self.load([entry])
            return self._names.get(entry.object_id, entry.object_id)
        return entry.object_id


def audit_rows_labelled(entries: Iterable[AuditEntry]) -> Iterable[AuditEntry]:
    """The entries of a page with `action_label`, `object_label` and `object_name` set, the
    accounts they name read in one query."""
    names = AccountNames()
    names.load(entries)
    for entry in entries:
        entry.action_label = action_label(entry.action)
        entry.object_label = object_label(entry.object_type)
        entry.object_name = names.object_name(entry)
    return entries
