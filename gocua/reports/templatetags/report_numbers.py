"""Numbers as a Vietnamese reader writes them: 1.234.567 and 65,3%.

{% load report_numbers %}
{{ row.eligible|num }}  {{ row.activation_rate|pct }}  {{ m.change|points }}  {{ m.pace|num:1 }}
"""

from django import template

from gocua.reports import charts

register = template.Library()


@register.filter
def num(value, digits: int = 0) -> str:
    return charts.num(value, int(digits))


@register.filter
def pct(value, digits: int = 1) -> str:
    return charts.pct(value, int(digits))


@register.filter
def points(value) -> str:
    """A change of a rate, in percentage points with its sign."""
    if value is None:
        return "–"
    text = f"{value * 100:+.1f}".replace(".", ",")
    return f"{text} điểm"
