"""One name per figure, for the dashboard and the committee report alike.

A stock counts the residents who stand at a stage on the counted day; a cumulative figure
(lũy kế) counts everyone who has reached a stage or gone past it. "Đã duyệt" alone meant the
stock in the report (approved, not yet activated) and the cumulative figure on the dashboard's
funnel (approved, activated or used): each now has its own name, the same on every page and
in every file. Marked for the catalogue only: pages translate them, the report stays
Vietnamese.
"""

from django.utils.translation import gettext_noop

FIGURE_LABELS = {
    "eligible": gettext_noop("Công dân đủ điều kiện"),
    # cumulative: registered, approved, failed, activated or used
    "registered": gettext_noop("Đã thu nhận hồ sơ (lũy kế)"),
    # cumulative: approved, activated or used
    "approved_total": gettext_noop("Đã duyệt (lũy kế)"),
    # stock: approved, the account not activated yet
    "approved": gettext_noop("Đã duyệt, chờ kích hoạt"),
    # stock: the dossier did not pass and must be collected again
    "failed": gettext_noop("Không đạt, phải thu nhận lại"),
    # cumulative: activated or used
    "activated": gettext_noop("Đã kích hoạt (lũy kế)"),
    "used": gettext_noop("Đã sử dụng"),
}


def approved_total(row: dict) -> int:
    """Everyone whose dossier was approved, whatever happened next (activated counts used)."""
    return row["approved"] + row["activated"]
