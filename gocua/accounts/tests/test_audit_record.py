"""The audit_record service and the append-only log."""

import pytest
from django.test import RequestFactory

from gocua.accounts.models import AuditEntry
from gocua.accounts.services import audit_record


def test_it_records_who_what_which_unit_and_from_where(bob, tree):
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3")
    entry = audit_record(
        user=bob,
        action="export",
        object_type="kpi_report",
        object_id=703,
        unit=tree.district,
        request=request,
        detail={"format": "xlsx"},
    )
    entry.refresh_from_db()
    assert (entry.user, entry.username, entry.action, entry.object_type, entry.object_id) == (
        bob,
        "bob",
        "export",
        "kpi_report",
        "703",
    )
    assert (entry.unit, entry.ip, entry.detail) == (tree.district, "10.1.2.3", {"format": "xlsx"})
    assert entry.at is not None


def test_it_accepts_no_user_and_no_request(tree):
    entry = audit_record(
        user=None, action="import", object_type="import_job", object_id=None, unit=None
    )
    assert (entry.username, entry.object_id, entry.ip) == ("", "", None)


def test_it_masks_personal_data_in_detail(bob):
    entry = audit_record(
        user=bob,
        action="update",
        object_type="resident",
        object_id=1,
        unit=None,
        detail={"note": "gọi 0912345678 về 072090000001", "rows": [{"id": "072090000001"}]},
    )
    entry.refresh_from_db()
    text = str(entry.detail)
    assert "0912345678" not in text and "072090000001" not in text
    assert "09*****678" in text and "072******001" in text


def test_it_is_append_only(bob):
    entry = audit_record(user=bob, action="view", object_type="resident", object_id=1, unit=None)
    entry.action = "nothing"
    with pytest.raises(TypeError, match="append-only"):
        entry.save()
    with pytest.raises(TypeError, match="append-only"):
        entry.delete()
    with pytest.raises(TypeError, match="append-only"):
        AuditEntry.objects.all().delete()
    with pytest.raises(TypeError, match="append-only"):
        AuditEntry.objects.update(action="x")
    assert AuditEntry.objects.get().action == "view"


def test_it_keeps_the_entries_when_the_user_is_deleted(bob):
    audit_record(user=bob, action="view", object_type="resident", object_id=1, unit=None)
    bob.delete()
    entry = AuditEntry.objects.get()
    assert (entry.user, entry.username) == (None, "bob")


def test_it_takes_the_client_address_from_trusted_proxies_only(bob, settings):
    from gocua.accounts.services import client_ip

    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"
    )
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"
    settings.TRUSTED_PROXY_COUNT = 3
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    bad = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert client_ip(bad) == "10.0.0.1"
