"""Personal data shown by role: the one place that decides what a national ID or phone looks like.

National IDs (`072******891`) are masked everywhere except on a resident's own page, for unit
managers and province admins.

Phones (`09*****123`) follow one rule, for residents and team members alike: a unit manager or
province admin sees a number in full where they must contact that one person, i.e. a
resident's own page, a home-support request (the officer calls the family to set the day) and
their team's roster (they call their members). Everywhere else, masked: lists, searches,
worklists, print-outs, exports, the API and the field page. Field members always see masked
phones (they meet people at their door); viewers see no personal data at all, so for them
these helpers return an empty string.

Templates use the filters in `gocua.accounts.templatetags.privacy`; API schemas and exports call
these functions directly.
"""

from gocua.accounts.selectors import can_see_residents, is_manager
from gocua.lib import nid as nid_lib
from gocua.lib import phone as phone_lib


def sees_full_identity(user) -> bool:
    """Whether the user may read full IDs and phones on a resident's own page."""
    return is_manager(user)


def nid_for(user, resident, *, own_page: bool = False) -> str:
    if not can_see_residents(user):
        return ""
    if own_page and sees_full_identity(user):
        return resident.national_id
    return nid_lib.mask(resident.national_id)


def phone_for(user, person, *, to_contact: bool = False) -> str:
    """The phone of a resident or a team member as `user` may see it; `to_contact`: on a page
    made to contact that one person (see the module's rule)."""
    if not can_see_residents(user):
        return ""
    if to_contact and sees_full_identity(user):
        return person.phone
    return phone_lib.mask(person.phone)
