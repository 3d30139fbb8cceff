"""Labels for the codes field work stores (gaps, flags, stages, outcomes, times of day).

{% load fieldwork %} {{ r.gap|gap_label }} {{ r.eid_stage|stage_label }} {{ o|outcome_label }}
"""

from django import template
from django.utils.functional import Promise

from gocua.campaigns.models import Affiliation
from gocua.fieldwork.models import FollowUp, Outcome
from gocua.fieldwork.selectors import FLAG_LABELS
from gocua.people.funnel import GAP_LABELS
from gocua.people.models import Stage

register = template.Library()

_STAGES = dict(Stage.choices)
_OUTCOMES = dict(Outcome.choices)
_TIMES = dict(FollowUp.TimeOfDay.choices)
_AFFILIATIONS = dict(Affiliation.choices)


@register.filter
def gap_label(code: str) -> str | Promise:
    return GAP_LABELS.get(code, code or "")


@register.filter
def flag_label(code: str) -> str | Promise:
    return FLAG_LABELS.get(code, code or "")


@register.filter
def stage_label(code: str) -> str | Promise:
    return _STAGES.get(code, code or "")


@register.filter
def outcome_label(code: str | None) -> str | Promise:
    return _OUTCOMES.get(code, code or "") if code else ""


@register.filter
def time_of_day_label(code: str) -> str | Promise:
    return _TIMES.get(code, code or "")


@register.filter
def affiliation_label(code: str) -> str | Promise:
    return _AFFILIATIONS.get(code, code or "")


@register.filter
def percent(value) -> str:
    """0.985 → '98,5' (a fraction shown as a percentage, Vietnamese decimal comma)."""
    if value is None:
        return ""
    text = f"{float(value) * 100:.1f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")
