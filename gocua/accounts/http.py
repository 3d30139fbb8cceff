"""The request of a page behind a login: its `user` is one of our accounts.

Django types `request.user` as "a user or the anonymous visitor"; behind `login_required`
(and the middleware that sends everyone else to the login page) it is always a `User`.
Views annotate their request with `AuthenticatedHttpRequest`, so the services and selectors
they call, which take a `User`, are checked as such."""

from django.http import HttpRequest

from gocua.accounts.models import ApiToken, User


class AuthenticatedHttpRequest(HttpRequest):
    user: User


class ApiRequest(HttpRequest):
    """A request the API let in (gocua.api.common's bearer and session auth): `auth` is the
    account, as django-ninja sets it."""

    auth: User


class TokenRequest(ApiRequest):
    """A request the API let in by its bearer token: `api_token` is that token."""

    api_token: ApiToken
