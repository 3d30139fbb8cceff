"""Password change page."""

from gocua.accounts.models import AuditEntry

NEW = "một-mật-khẩu-mới-2026"


def test_it_asks_anonymous_users_to_log_in(client, db):
    response = client.get("/accounts/password/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_changes_the_password_and_audits_it(client, bob):
    client.force_login(bob)
    assert client.get("/accounts/password/").status_code == 200
    response = client.post(
        "/accounts/password/",
        {"old_password": bob.raw_password, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/password/done/"
    bob.refresh_from_db()
    assert bob.check_password(NEW)
    assert AuditEntry.objects.filter(action="password_change", user=bob).exists()
    assert client.get("/accounts/password/done/").status_code == 200


def test_it_refuses_a_weak_password(client, bob):
    client.force_login(bob)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": bob.raw_password,
            "new_password1": "12345678",
            "new_password2": "12345678",
        },
    )
    assert response.status_code == 200
    bob.refresh_from_db()
    assert bob.check_password(bob.raw_password)
