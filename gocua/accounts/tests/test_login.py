"""Login and logout pages, django-axes throttling and the lockout page."""

from django.conf import settings

from gocua.accounts.models import AuditEntry


def login(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def test_it_shows_the_login_page_in_vietnamese(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert "Đăng nhập" in response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()


def test_it_logs_in_and_audits_the_login(client, bob):
    response = login(client, "bob", bob.raw_password, REMOTE_ADDR="10.0.0.7")
    # A unit manager lands on their day: what is due today in their unit.
    assert response.status_code == 302 and response["Location"] == "/fieldwork/today/"
    entry = AuditEntry.objects.get(action="login")
    assert (entry.user, entry.unit, entry.ip) == (bob, bob.unit, "10.0.0.7")
    assert client.get("/").status_code == 200


def test_it_says_wrong_password_without_saying_which_part(client, bob):
    response = login(client, "bob", "wrong")
    assert response.status_code == 200
    assert "Sai tên đăng nhập hoặc mật khẩu" in response.content.decode()
    assert not AuditEntry.objects.filter(action="login").exists()


def test_it_locks_out_after_the_failure_limit_with_a_friendly_page(client, bob):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert login(client, "bob", "wrong").status_code == 200
    response = login(client, "bob", "wrong")
    assert response.status_code == 429
    assert "Tạm khóa đăng nhập" in response.content.decode()
    # Even the right password is refused while locked out.
    response = login(client, "bob", bob.raw_password)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_it_counts_failures_per_user_name_and_address(client, bob, charlie):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "bob", "wrong")
    assert login(client, "charlie", charlie.raw_password).status_code == 302
    client.logout()
    other = login(client, "bob", bob.raw_password, REMOTE_ADDR="10.9.9.9")
    assert other.status_code == 302


def test_it_resets_the_count_after_a_success(client, bob):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "bob", "wrong")
    assert login(client, "bob", bob.raw_password).status_code == 302
    client.logout()
    assert login(client, "bob", "wrong").status_code == 200


def test_it_logs_out_by_post_only_and_audits_it(client, bob):
    client.force_login(bob)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert AuditEntry.objects.filter(action="logout", user=bob).exists()
    assert client.get("/").status_code == 302


def test_it_requires_csrf_on_login(bob):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/login/", {"username": "bob", "password": bob.raw_password})
    assert response.status_code == 403


def test_it_locks_out_the_client_not_the_proxy_behind_trusted_proxies(client, bob, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, "bob", "wrong", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert (
        login(client, "bob", bob.raw_password, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code
        == 429
    )
    other = login(client, "bob", bob.raw_password, HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert other.status_code == 302
    entry = AuditEntry.objects.get(action="login")
    assert entry.ip == "198.51.100.8"
