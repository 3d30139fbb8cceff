"""Login cards: what a manager prints for the people they gave accounts to.

A card carries the address of the first-login page (with a QR code of it), the login name
and the one-time code, never a password. Codes are shown once: the cards exist only in the
answer to the request that made the codes (issue new codes to print again)."""

from dataclasses import dataclass

import segno
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode


@dataclass(frozen=True)
class LoginCard:
    full_name: str
    username: str
    code: str
    expires_at: object
    where: str  # the team or unit, as printed under the name
    address: str  # the first-login page, with the login name filled in
    qr: str  # a data: URI of an SVG QR code of `address`


def login_card(request: HttpRequest, *, user, code: str, where: str) -> LoginCard:
    address = request.build_absolute_uri(
        reverse("accounts:code") + "?" + urlencode({"u": user.get_username()})
    )
    latest = user.login_codes.order_by("-created_at").first()
    return LoginCard(
        full_name=user.get_full_name() or user.get_username(),
        username=user.get_username(),
        code=code,
        expires_at=timezone.localtime(latest.expires_at) if latest else None,
        where=where,
        address=address,
        qr=segno.make(address, error="m").svg_data_uri(scale=3, border=2),
    )
