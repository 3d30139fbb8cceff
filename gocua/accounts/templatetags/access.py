"""What a template may offer the user (links, buttons), from the same rules as the selectors.

{% load access %}
{% if user|can_search_residents %}<a href="{% url 'people:list' %}">…</a>{% endif %}
"""

from django import template

from gocua.accounts import selectors

register = template.Library()


@register.filter
def can_search_residents(user) -> bool:
    return selectors.can_search_residents(user)


@register.filter
def can_see_residents(user) -> bool:
    return selectors.can_see_residents(user)


@register.filter
def can_read_audit(user) -> bool:
    return selectors.can_read_audit(user)


@register.filter
def is_manager(user) -> bool:
    return selectors.is_manager(user)
