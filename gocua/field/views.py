"""The field page (/field/): an installable page that works offline.

The page is an app shell with no personal data in it: the service worker keeps it (and its
scripts) on the phone, and the data lives in the phone's IndexedDB. Logging in happens once, on
the ordinary login page (lockout, password rules); the page then trades the session for a bearer
token (POST /api/v1/field/token) that it keeps in IndexedDB, so it goes on working offline and
after the 12-hour session has expired, until the token is revoked.
"""

import hashlib
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET

from gocua.fieldwork.models import Outcome
from gocua.people.funnel import GAP_LABELS

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "field"
TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "field" / "page.html"
# The app shell: what the service worker keeps for offline use (besides the page itself).
SHELL_FILES = ("app.js", "store.js", "sync.js", "field.css", "icon-192.png", "icon-512.png")
# Outcome buttons, most used first.
OUTCOME_ORDER = (
    "helped_register",
    "helped_activate",
    "guided_usage",
    "helped_install",
    "already_done",
    "not_home",
    "refused",
    "no_smartphone",
    "phone_not_owned",
    "needs_id_card",
    "needs_home_support",
    "app_error",
    "moved_away",
    "deceased",
)
FLAG_LABELS = {
    "elderly": "Người cao tuổi",
    "no_smartphone": "Không có điện thoại thông minh",
    "away": "Đi làm ăn xa",
    "disabled": "Khuyết tật",
    "needs_id_card": "Cần làm CCCD",
}


@cache
def shell_version() -> str:
    """Changes whenever a shell file or the page template changes, so that phones fetch the
    new shell (the browser compares the service worker script byte for byte)."""
    digest = hashlib.sha256()
    for path in [TEMPLATE, STATIC_DIR / "sw.js", *(STATIC_DIR / name for name in SHELL_FILES)]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _version() -> str:
    if settings.DEBUG:
        shell_version.cache_clear()
    return shell_version()


def _strings() -> dict:
    outcomes = dict(Outcome.choices)
    return {
        "outcomes": [[code, str(outcomes[code])] for code in OUTCOME_ORDER],
        "gaps": {code: str(label) for code, label in GAP_LABELS.items()},
        "flags": {code: _(label) for code, label in FLAG_LABELS.items()},
        "text": {
            "online": _("Trực tuyến"),
            "offline": _("Ngoại tuyến"),
            "waiting": _("Chờ gửi"),
            "sending": _("Đang gửi…"),
            "sent": _("Đã gửi"),
            "rejected": _("Bị từ chối"),
            "retry_in": _("Gửi lại sau %(seconds)s giây"),
            "last_sync": _("Lần gửi gần nhất: %(time)s"),
            "last_pull": _("Cập nhật danh sách: %(time)s"),
            "never": _("chưa có"),
            "households": _("%(count)s hộ"),
            "people": _("%(count)s người"),
            "choose": _("Chọn kết quả"),
            "change": _("Đổi"),
            "save_visit": _("Lưu lượt thăm (%(count)s người)"),
            "saved": _("Đã lưu. Sẽ gửi khi có mạng."),
            "visited": _("Đã thăm %(time)s"),
            "no_households": _("Chưa có hộ nào trong danh sách. Khi có mạng, bấm “Tải lại”."),
            "no_hamlets": _(
                "Tài khoản này chưa được phân công ấp/khu phố nào: hãy nhờ cán bộ phụ trách "
                "phân công địa bàn."
            ),
            "not_field": _("Tài khoản này không có danh sách rà soát."),
            "outbox_empty": _("Không có lượt thăm nào chờ gửi."),
            "discard": _("Bỏ"),
            "discard_confirm": _("Bỏ lượt thăm bị từ chối này?"),
            "logout_confirm": _(
                "Còn %(count)s lượt thăm chưa gửi. Chúng vẫn được giữ trên máy và sẽ gửi khi "
                "bạn đăng nhập lại. Vẫn đăng xuất?"
            ),
            "login_needed": _("Cần đăng nhập lại để gửi (phiên đã bị thu hồi)."),
            "error": _("Lỗi: %(message)s"),
            "pulling": _("Đang tải danh sách…"),
            "pulled": _("Đã cập nhật %(count)s hộ."),
            "no_network": _("Không có mạng."),
            "gps_on": _("Đang ghi vị trí GPS"),
            "hello": _("Xin chào, %(name)s"),
            "login": _("Đăng nhập"),
            "age": _("%(age)s tuổi"),
        },
    }


@login_required
@require_GET
@ensure_csrf_cookie  # the page sends it (X-CSRFToken) to trade the session for a token
def page(request: HttpRequest) -> HttpResponse:
    """The shell; the same for every user (the service worker keeps it for all of them)."""
    response = render(
        request,
        "field/page.html",
        {
            "strings": _strings(),
            "version": _version(),
            "login_url": f"{settings.LOGIN_URL}?next={reverse('field:page')}",
        },
    )
    response["Cache-Control"] = "no-cache"
    return response


@login_required
@require_GET
@never_cache
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served under /field/ so that its scope is the field page."""
    script = (STATIC_DIR / "sw.js").read_text(encoding="utf-8")
    shell = [reverse("field:page"), *(static(f"field/{name}") for name in SHELL_FILES)]
    script = script.replace("__VERSION__", _version()).replace(
        '"__SHELL__"', ", ".join(f'"{url}"' for url in shell)
    )
    return HttpResponse(script, content_type="text/javascript; charset=utf-8")


@login_required
@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    start = reverse("field:page")
    response = JsonResponse(
        {
            "name": _("GõCửa – Rà soát tại nhà"),
            "short_name": "GõCửa",
            "description": _("Danh sách hộ cần thăm, ghi kết quả cả khi không có mạng."),
            "lang": "vi",
            "start_url": start,
            "scope": start,
            "display": "standalone",
            "orientation": "portrait",
            "background_color": "#f6f7f9",
            "theme_color": "#b3261e",
            "icons": [
                {"src": static("field/icon-192.png"), "sizes": "192x192", "type": "image/png"},
                {"src": static("field/icon-512.png"), "sizes": "512x512", "type": "image/png"},
                {
                    "src": static("field/icon-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "maskable",
                },
            ],
        },
        json_dumps_params={"ensure_ascii": False},
    )
    response["Content-Type"] = "application/manifest+json"
    return response
