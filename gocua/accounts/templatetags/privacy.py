"""Template filters so every app renders personal data the same way.

{% load privacy %}
{{ resident|nid_for:user }}          masked everywhere (lists, worklists, print-outs)
{{ person|phone_for:user }}          masked (a resident or a team member)
{{ resident|nid_on_own_page:user }}  full for unit managers and above, on the resident's page
{{ person|phone_to_contact:user }}   full for unit managers and above, on a page made to contact
                                     that one person (see gocua.accounts.privacy)
{{ some_id|mask_nid }} {{ some_phone|mask_phone }}   plain masking of a string
"""

from django import template

from gocua.accounts import privacy
from gocua.lib import nid as nid_lib
from gocua.lib import phone as phone_lib

register = template.Library()


@register.filter
def nid_for(resident, user) -> str:
    return privacy.nid_for(user, resident)


@register.filter
def phone_for(resident, user) -> str:
    return privacy.phone_for(user, resident)


@register.filter
def nid_on_own_page(resident, user) -> str:
    return privacy.nid_for(user, resident, own_page=True)


@register.filter
def phone_to_contact(person, user) -> str:
    return privacy.phone_for(user, person, to_contact=True)


@register.filter
def mask_nid(value) -> str:
    return nid_lib.mask(str(value or ""))


@register.filter
def mask_phone(value) -> str:
    return phone_lib.mask(str(value or ""))
