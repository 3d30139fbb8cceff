"""One set of text limits (gocua.lib.limits), stated under the field, carried by the input's
maxlength, and refused past it with the length and the limit in the same words on the web form,
the API and the imports; never cut silently. Errors show under the field they concern."""

import re

from django.utils import timezone

from gocua.fieldwork.models import OutreachEvent
from gocua.lib import limits

OUTREACH = "/fieldwork/outreach/new/"


def _outreach(tree, **changes) -> dict:
    return {
        "unit": tree.xa_a.pk,
        "kind": "market",
        "place": "Chợ",
        "date": timezone.localdate().isoformat(),
        "people_reached": 5,
        "dossiers_collected": 0,
        "activations_helped": 0,
        "note": "",
        **changes,
    }


def _field_block(page: str, name: str) -> str:
    """The <div class="field"> of the form field `name`, as rendered."""
    found = re.search(
        rf'<div class="field">(?:(?!<div class="field">).)*id="id_{name}".*?</div>', page, re.S
    )
    assert found, name
    return found.group()


def test_the_form_states_the_limit_and_the_input_carries_it(client, bob, homes, tree):
    client.force_login(bob)
    page = client.get(OUTREACH).content.decode()
    note = _field_block(page, "note")
    assert 'maxlength="2000"' in note and "Tối đa 2.000 ký tự." in note


def test_a_too_long_note_is_refused_under_it_with_its_length_and_the_limit(
    client, bob, homes, tree
):
    client.force_login(bob)
    response = client.post(OUTREACH, _outreach(tree, note="x" * (limits.NOTE + 1)))
    assert response.status_code == 200
    assert response.context["form"].errors["note"] == ["Dài 2.001 ký tự, tối đa 2.000 ký tự."]
    assert "Dài 2.001 ký tự, tối đa 2.000 ký tự." in _field_block(response.content.decode(), "note")
    assert not OutreachEvent.objects.exists()


def test_more_activations_than_people_reached_shows_under_activations(client, bob, homes, tree):
    client.force_login(bob)
    response = client.post(OUTREACH, _outreach(tree, activations_helped=9))
    page = response.content.decode()
    message = "Số tài khoản kích hoạt không thể lớn hơn số người được tiếp cận."
    assert message in _field_block(page, "activations_helped")
    assert message not in _field_block(page, "date")


def test_the_api_refuses_the_same_note_with_the_same_words(api, bob, homes, tree):
    body = {
        "unit": tree.xa_a.code,
        "kind": "market",
        "place": "Chợ",
        "date": timezone.localdate().isoformat(),
    }
    response = api(bob).post("/api/v1/outreach", {**body, "note": "x" * (limits.NOTE + 1)})
    assert response.status_code == 422
    assert "note: Quá dài: tối đa 2.000 ký tự." in response.json()["detail"]
    assert api(bob).post("/api/v1/outreach", {**body, "note": "x" * limits.NOTE}).status_code == 201
    assert len(OutreachEvent.objects.get().note) == limits.NOTE
