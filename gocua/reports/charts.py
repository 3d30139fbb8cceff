"""Charts as SVG made on the server: no script, no inline style (the CSP allows neither), no
network. Colours come from CSS classes (static/css/reports.css) except the map's continuous
scale, which uses the SVG `fill` attribute (a presentation attribute, not a style).
Every text goes through format_html, so unit names are escaped.
"""

import datetime as dt
import math

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from gocua.reports.labels import FIGURE_LABELS, approved_total

METRIC_CLASSES = ("registration", "activation", "usage")


def _svg(width: int, height: int, body: str, label: str, css: str = "chart") -> SafeString:
    return format_html(
        '<svg class="{}" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'xmlns="http://www.w3.org/2000/svg">{}</svg>',
        css,
        width,
        height,
        label,
        mark_safe(body),  # noqa: S308 — built from format_html pieces only
    )


def _f(x: float) -> str:
    return f"{x:.1f}"


def pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f}%".replace(".", ",")


def num(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    text = f"{value:,.{digits}f}"
    # Vietnamese: 1.234,5
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


# --- time series -------------------------------------------------------------------------------


class _RatePlot:
    """The rate chart's frame: days from `first` to `last` across, rates 0–100% up."""

    width, height = 720, 280
    left, right, top, bottom = 46, 18, 14, 30

    def __init__(self, first: dt.date, last: dt.date) -> None:
        self.first, self.last = first, last
        self.span = max((last - first).days, 1)
        self.plot_w = self.width - self.left - self.right
        self.plot_h = self.height - self.top - self.bottom

    def x(self, day: dt.date) -> float:
        return self.left + self.plot_w * (day - self.first).days / self.span

    def y(self, rate: float) -> float:
        return self.top + self.plot_h * (1 - max(0.0, min(rate, 1.0)))


def rate_series(
    series: list[dict],
    *,
    today: dt.date,
    deadline: dt.date | None,
    targets: dict[str, float],
    metric: str,
    projected: dt.date | None,
    labels: dict[str, str],
) -> SafeString:
    """Daily registration, activation and usage rates, their target lines, the deadline, and
    the projection of `metric` from today to its projected date."""
    width, height = _RatePlot.width, _RatePlot.height
    if not series:
        return _svg(
            width,
            height,
            format_html(
                '<text x="{}" y="{}" class="muted">{}</text>',
                width / 2,
                height / 2,
                "Chưa có số liệu theo ngày",
            ),
            "Chưa có số liệu",
        )
    last = max(today, deadline or today)
    if projected and projected > last:
        last = min(projected, last + dt.timedelta(days=90))
    plot = _RatePlot(series[0]["day"], last)
    parts = [
        *_rate_axes(plot),
        *_rate_targets(plot, targets, labels),
        *_rate_days(plot, today, deadline),
        *_rate_lines(plot, series, labels),
    ]
    if projected and projected > series[-1]["day"] and targets.get(metric) is not None:
        parts.append(_rate_projection(plot, series[-1], targets[metric], metric, projected, labels))
    return _svg(width, height, "".join(parts), "Tỷ lệ theo ngày")


def _rate_axes(plot: _RatePlot) -> list[SafeString]:
    parts = []
    for tick in (0, 0.25, 0.5, 0.75, 1):
        parts.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>',
                plot.left,
                plot.width - plot.right,
                _f(plot.y(tick)),
                _f(plot.y(tick)),
                plot.left - 6,
                _f(plot.y(tick) + 4),
                f"{int(tick * 100)}%",
            )
        )
    ticks = 6
    for i in range(ticks + 1):
        day = plot.first + dt.timedelta(days=round(plot.span * i / ticks))
        parts.append(
            format_html(
                '<text class="axis" x="{}" y="{}" text-anchor="middle">{}</text>',
                _f(plot.x(day)),
                plot.height - 10,
                day.strftime("%d/%m"),
            )
        )
    return parts


def _rate_targets(
    plot: _RatePlot, targets: dict[str, float], labels: dict[str, str]
) -> list[SafeString]:
    parts = []
    for name in METRIC_CLASSES:
        target = targets.get(name)
        if target is not None:
            parts.append(
                format_html(
                    '<line class="target target-{}" x1="{}" x2="{}" y1="{}" y2="{}">'
                    "<title>{}: {}</title></line>",
                    name,
                    plot.left,
                    plot.width - plot.right,
                    _f(plot.y(target)),
                    _f(plot.y(target)),
                    f"Chỉ tiêu {labels[name].lower()}",
                    pct(target, 0),
                )
            )
    return parts


def _rate_days(plot: _RatePlot, today: dt.date, deadline: dt.date | None) -> list[SafeString]:
    """The deadline's line (with its date) and today's."""
    parts = []
    if deadline:
        parts.append(
            format_html(
                '<line class="deadline" x1="{0}" x2="{0}" y1="{1}" y2="{2}"/>'
                '<text class="axis deadline-label" x="{3}" y="{4}" text-anchor="end">{5}</text>',
                _f(plot.x(deadline)),
                plot.top,
                plot.top + plot.plot_h,
                _f(plot.x(deadline) - 4),
                plot.top + 12,
                f"Hạn {deadline:%d/%m/%Y}",
            )
        )
    parts.append(
        format_html(
            '<line class="today" x1="{0}" x2="{0}" y1="{1}" y2="{2}"/>',
            _f(plot.x(today)),
            plot.top,
            plot.top + plot.plot_h,
        )
    )
    return parts


def _rate_lines(plot: _RatePlot, series: list[dict], labels: dict[str, str]) -> list[SafeString]:
    """Each rate's line, and a dot on its last day."""
    parts = []
    x, y = plot.x, plot.y
    for name in METRIC_CLASSES:
        points = " ".join(f"{_f(x(p['day']))},{_f(y(p[name]))}" for p in series)
        parts.append(
            format_html(
                '<polyline class="line line-{}" points="{}"><title>{}</title></polyline>',
                name,
                points,
                labels[name],
            )
        )
        end = series[-1]
        parts.append(
            format_html(
                '<circle class="dot dot-{}" cx="{}" cy="{}" r="3.5"><title>{}: {}</title></circle>',
                name,
                _f(x(end["day"])),
                _f(y(end[name])),
                labels[name],
                pct(end[name]),
            )
        )
    return parts


def _rate_projection(
    plot: _RatePlot,
    end: dict,
    goal: float,
    metric: str,
    projected: dt.date,
    labels: dict[str, str],
) -> SafeString:
    """From the last day's rate towards the target, reached on the projected date (cut at the
    chart's edge)."""
    end_day = min(projected, plot.last)
    start_rate = end[metric]
    total = (projected - end["day"]).days
    reached = (end_day - end["day"]).days / total if total else 1
    return format_html(
        '<line class="projection projection-{}" x1="{}" y1="{}" x2="{}" y2="{}">'
        "<title>{}</title></line>",
        metric,
        _f(plot.x(end["day"])),
        _f(plot.y(start_rate)),
        _f(plot.x(end_day)),
        _f(plot.y(start_rate + (goal - start_rate) * reached)),
        f"Dự kiến đạt chỉ tiêu {labels[metric].lower()}: {projected:%d/%m/%Y}",
    )


# --- funnel ------------------------------------------------------------------------------------


def funnel(head: dict) -> SafeString:
    """The cumulative funnel (each step counts everyone who reached it or went past it), and
    under it the two stocks that stand aside: approved waiting for activation, and failed.
    Named by FIGURE_LABELS, as in the committee report."""
    eligible = head["eligible"]
    steps = [
        (FIGURE_LABELS["eligible"], eligible, "step-eligible"),
        (FIGURE_LABELS["registered"], head["registered"], "step-registered"),
        (FIGURE_LABELS["approved_total"], approved_total(head), "step-approved"),
        (FIGURE_LABELS["activated"], head["activated"], "step-activated"),
        (FIGURE_LABELS["used"], head["used"], "step-used"),
    ]
    width, row = 560, 34
    height = row * len(steps) + 26
    label_w, bar_w = 170, 262
    parts = []
    for i, (label, count, css) in enumerate(steps):
        share = count / eligible if eligible else 0
        y = 8 + i * row
        parts.append(
            format_html(
                '<text class="label" x="0" y="{}">{}</text>'
                '<rect class="bar {}" x="{}" y="{}" width="{}" height="{}" rx="3"/>'
                '<text class="value" x="{}" y="{}">{} · {}</text>',
                y + 17,
                _(label),
                css,
                label_w,
                y,
                _f(max(bar_w * share, 1)),
                row - 10,
                label_w + bar_w * share + 8,
                y + 17,
                num(count),
                pct(share),
            )
        )
    parts.append(
        format_html(
            '<text class="muted stock" x="0" y="{}">{}: {} · {}: {}</text>',
            height - 4,
            _(FIGURE_LABELS["approved"]),
            num(head["approved"]),
            _(FIGURE_LABELS["failed"]),
            num(head["failed"]),
        )
    )
    return _svg(width, height, "".join(parts), "Phễu đăng ký, kích hoạt, sử dụng", "chart funnel")


# --- pace --------------------------------------------------------------------------------------


def pace_bars(head: dict, labels: dict[str, str]) -> SafeString:
    """Required daily pace vs the last 7 days' pace, per metric, the latter coloured by status."""
    rows = []
    for name in METRIC_CLASSES:
        rows.append(
            (
                name,
                head.get(f"{name}_required_pace"),
                head.get(f"{name}_pace_7d"),
                head.get(f"{name}_status") or "none",
            )
        )
    top_value = max([v for _n, r, a, _s in rows for v in (r, a) if v] or [1])
    width, block = 560, 58
    height = block * len(rows) + 8
    label_w, bar_w = 72, 330
    parts = []
    for i, (name, required, actual, status) in enumerate(rows):
        y = 6 + i * block
        parts.append(
            format_html('<text class="label" x="0" y="{}">{}</text>', y + 22, labels[name])
        )
        for j, (value, css, caption) in enumerate(
            ((required, "bar required", "cần"), (actual, f"bar status-{status}", "7 ngày qua"))
        ):
            w = bar_w * (max(value, 0) / top_value) if value else 0
            parts.append(
                format_html(
                    '<rect class="{}" x="{}" y="{}" width="{}" height="20" rx="3"/>'
                    '<text class="value" x="{}" y="{}">{} {}/ngày</text>',
                    css,
                    label_w,
                    y + j * 24,
                    _f(max(w, 1)),
                    label_w + w + 8,
                    y + j * 24 + 15,
                    caption,
                    num(value, 1),
                )
            )
    return _svg(width, height, "".join(parts), "Tiến độ cần đạt và tiến độ 7 ngày", "chart pace")


# --- map ---------------------------------------------------------------------------------------

_SCALE = ((0.0, (179, 38, 30)), (0.7, (224, 161, 0)), (1.0, (27, 127, 59)))


def colour_for(share: float | None) -> str:
    """Red (0% of target) → amber (70%) → green (100% and more)."""
    if share is None:
        return "#9aa5b1"
    share = max(0.0, min(share, 1.0))
    for (a, ca), (b, cb) in zip(_SCALE, _SCALE[1:], strict=False):
        if share <= b:
            t = (share - a) / (b - a)
            rgb = [round(x + (y - x) * t) for x, y in zip(ca, cb, strict=True)]
            return "#" + "".join(f"{c:02x}" for c in rgb)
    return "#1b7f3b"


def _ring_offsets(
    placed: list[dict], max_r: float, ring_cap: float
) -> tuple[dict[int, tuple[float, float]], float]:
    """Each unit's offset from its centroid, and the largest radius that leaves room.

    Points sharing a centroid (hamlets placed at their commune's) go round a ring wide enough
    for neighbours not to overlap (chord 2·ring·sin(π/n) ≥ 2·r + gap), within the frame."""
    groups: dict[tuple, list[int]] = {}
    for i, c in enumerate(placed):
        groups.setdefault((round(c["lat"], 5), round(c["lon"], 5)), []).append(i)
    for members in groups.values():
        if len(members) > 1:
            room = ring_cap * math.sin(math.pi / len(members)) - 6
            max_r = max(6, min(max_r, room))
    offsets = {}
    for members in groups.values():
        n = len(members)
        ring = min((max_r + 6) / math.sin(math.pi / n), ring_cap) if n > 1 else 0.0
        for k, i in enumerate(members):
            angle = 2 * math.pi * k / n - math.pi / 2
            offsets[i] = (ring * math.cos(angle), ring * math.sin(angle))
    return offsets, max_r


def _map_circle(c: dict, cx: float, cy: float, r: float, metric: str, url_for) -> SafeString:
    share = c.get(f"{metric}_percent_of_target")
    title = (
        f"{c['unit_name']}: {num(c['eligible'])} đủ điều kiện, {pct(c[f'{metric}_rate'])} "
        f"({pct(share, 0)} chỉ tiêu)"
    )
    return format_html(
        '<a href="{}"><circle class="unit" cx="{}" cy="{}" r="{}" fill="{}">'
        "<title>{}</title></circle>"
        '<text class="unit-label" x="{}" y="{}" text-anchor="middle">{}</text></a>',
        url_for(c),
        _f(cx),
        _f(cy),
        _f(r),
        colour_for(share),
        title,
        _f(cx),
        _f(cy + r + 12),
        c["unit_name"],
    )


def _map_legend(height: int) -> list[SafeString]:
    legend = []
    for k, (share, caption) in enumerate(
        ((0.3, "< 50%"), (0.6, "50–70%"), (0.8, "70–90%"), (0.95, "90–99%"), (1.0, "≥ 100%"))
    ):
        legend.append(
            format_html(
                '<rect x="{}" y="{}" width="14" height="14" rx="2" fill="{}"/>'
                '<text class="axis" x="{}" y="{}">{}</text>',
                10 + k * 92,
                height - 22,
                colour_for(share),
                28 + k * 92,
                height - 11,
                caption,
            )
        )
    return legend


def unit_map(children: list[dict], *, metric: str, url_for) -> SafeString:
    """Child units as circles at their centroids: area ∝ eligible residents, colour = % of the
    target of `metric`. Units sharing a centroid are spread on a small ring."""
    width, height, pad, legend_h = 720, 460, 46, 34
    placed = [c for c in children if c.get("lat") is not None and c.get("lon") is not None]
    if not placed:
        return _svg(
            width,
            80,
            format_html(
                '<text class="muted" x="10" y="40">{}</text>', "Các đơn vị chưa có toạ độ."
            ),
            "Bản đồ",
        )
    lat_mid = sum(c["lat"] for c in placed) / len(placed)
    scale_x = math.cos(math.radians(lat_mid))
    xs = [c["lon"] * scale_x for c in placed]
    ys = [-c["lat"] for c in placed]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    span = max(x1 - x0, y1 - y0, 1e-6)
    biggest = max((c["eligible"] for c in placed), default=0) or 1
    max_r: float = 30 if len(placed) <= 12 else 22 if len(placed) <= 40 else 14
    ring_cap = (height - legend_h - 2 * pad) / 2 - 8
    offsets, max_r = _ring_offsets(placed, max_r, ring_cap)
    inner_w, inner_h = width - 2 * pad, height - 2 * pad - legend_h
    factor = min(inner_w, inner_h) / span
    cx0 = pad + (inner_w - (x1 - x0) * factor) / 2
    cy0 = pad + (inner_h - (y1 - y0) * factor) / 2
    parts = []
    order = sorted(range(len(placed)), key=lambda i: -placed[i]["eligible"])  # small on top
    for i in order:
        c = placed[i]
        dx, dy = offsets[i]
        cx = cx0 + (xs[i] - x0) * factor + dx
        cy = cy0 + (ys[i] - y0) * factor + dy
        r = 4 + (max_r - 4) * math.sqrt(c["eligible"] / biggest)
        parts.append(_map_circle(c, cx, cy, r, metric, url_for))
    legend = _map_legend(height)
    parts.append(
        format_html(
            '<text class="axis" x="10" y="16">{}</text>',
            "Vòng tròn: số công dân đủ điều kiện · màu: % chỉ tiêu",
        )
    )
    return _svg(width, height, "".join(parts) + "".join(legend), "Bản đồ các đơn vị", "chart map")


def legend(labels: dict[str, str]) -> SafeString:
    return format_html_join(
        "", '<span class="key key-{}">{}</span>', ((n, labels[n]) for n in METRIC_CLASSES)
    )
