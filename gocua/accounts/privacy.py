"""Personal data shown by role: the one place that decides what a national ID or phone looks like.

National IDs and phones are masked (`072******891`, `09*****123`) everywhere, except on a
resident's own page for unit managers and above. Viewers see no resident data at all (their
pages show aggregates only), so for them these helpers return an empty string.
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


def phone_for(user, resident, *, own_page: bool = False) -> str:
    if not can_see_residents(user):
        return ""
    if own_page and sees_full_identity(user):
        return resident.phone
    return phone_lib.mask(resident.phone)
