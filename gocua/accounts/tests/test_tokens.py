"""API token services: hashed at rest, revocable, last use touched at most once a minute."""

import datetime as dt
import hashlib

from django.utils import timezone

from gocua.accounts.models import ApiToken, AuditEntry
from gocua.accounts.services import token_authenticate, token_create, token_revoke


def test_it_stores_only_the_sha256_of_the_key(bob):
    token, key = token_create(user=bob, label="điện thoại", campaign_deadline=None)
    token.refresh_from_db()
    assert key.startswith("gc_") and len(key) > 40
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {
        f.value_from_object(token) for f in ApiToken._meta.fields if f.name != "prefix"
    }
    assert token.prefix == key[:10]
    assert AuditEntry.objects.filter(action="token_create", object_id=str(token.pk)).exists()


def test_it_authenticates_a_live_key_only(bob):
    token, key = token_create(user=bob, campaign_deadline=None)
    assert token_authenticate(key) == (token, bob)
    assert token_authenticate(key + "x") is None
    assert token_authenticate("") is None
    assert token_authenticate("x" * 500) is None


def test_it_refuses_a_revoked_token_and_revokes_once(bob):
    token, key = token_create(user=bob, campaign_deadline=None)
    assert token_revoke(token=token, by=bob) is True
    assert token_revoke(token=token, by=bob) is False
    assert token_authenticate(key) is None
    assert AuditEntry.objects.filter(action="token_revoke").count() == 1


def test_it_refuses_the_token_of_an_inactive_user(bob):
    _, key = token_create(user=bob, campaign_deadline=None)
    bob.is_active = False
    bob.save(update_fields=["is_active"])
    assert token_authenticate(key) is None


def test_it_touches_last_used_at_at_most_once_a_minute(bob, django_assert_num_queries):
    token, key = token_create(user=bob, campaign_deadline=None)
    with django_assert_num_queries(2):  # lookup + the first touch
        token_authenticate(key)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    with django_assert_num_queries(1):  # lookup only
        token_authenticate(key)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now() - dt.timedelta(seconds=61)
    )
    token_authenticate(key)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first
