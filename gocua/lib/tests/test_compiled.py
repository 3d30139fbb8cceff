"""CompiledLookup gives what its queryset gives: the same instances, related objects loaded,
in one query however often it runs."""

import pytest

from gocua.accounts.models import ApiToken, User
from gocua.accounts.services import token_create
from gocua.lib.compiled import CompiledLookup

TOKENS = CompiledLookup(
    lambda key_hash: ApiToken.objects.select_related("user__unit").filter(key_hash=key_hash),
    "sample",
)


def fields(instance):
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


@pytest.mark.django_db
def test_it_gives_the_querysets_instances_with_their_related_ones(
    bob, alice, django_assert_num_queries
):
    for user in (bob, alice, bob):  # run again with other values: the same SQL, new answers
        token, _key = token_create(user=user, campaign_deadline=None)
        with django_assert_num_queries(1):
            found = TOKENS.first(token.key_hash)
            assert (found.user.username, found.user.unit.code) == (user.username, user.unit.code)
        expected = ApiToken.objects.select_related("user__unit").get(key_hash=token.key_hash)
        assert fields(found) == fields(expected)
        assert fields(found.user) == fields(expected.user)
        assert fields(found.user.unit) == fields(expected.user.unit)
        assert found._state.adding is False and found._state.db == "default"


@pytest.mark.django_db
def test_it_answers_none_when_nothing_matches(bob):
    assert TOKENS.first("no such hash") is None


@pytest.mark.django_db
def test_it_refuses_a_sample_that_is_not_one_value_of_the_query(db):
    twice = CompiledLookup(lambda name: User.objects.filter(username=name, full_name=name), "x")
    with pytest.raises(ValueError, match="must appear once"):
        twice.first("bob")
