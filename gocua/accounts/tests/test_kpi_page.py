"""The KPI pages (gocua/reports/views.py) are login-required and scoped."""

from gocua.accounts.models import User


def test_it_asks_anonymous_users_to_log_in(client, tree):
    for url in ("/", "/units/2023/25456/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_it_starts_at_the_user_s_own_unit(client, bob, tree, resident_factory):
    resident_factory(tree.kp1)
    client.force_login(bob)
    page = client.get("/").content.decode()
    assert "Phường 1" in page and "Khu phố 1" in page
    assert "Phường 3" not in page


def test_it_answers_404_outside_the_jurisdiction(client, bob, tree):
    client.force_login(bob)
    assert client.get("/units/2023/25456/").status_code == 200
    assert client.get("/units/2023/25456-02/").status_code == 200
    for code in ("25459", "703", "72", "705", "nope"):
        assert client.get(f"/units/2023/{code}/").status_code == 404, code


def test_it_links_the_parent_only_when_visible(client, bob, dan, tree):
    client.force_login(bob)
    assert 'href="/units/2023/703/"' not in client.get("/units/2023/25456/").content.decode()
    client.force_login(dan)
    assert 'href="/units/2023/703/"' in client.get("/units/2023/25456/").content.decode()


def test_it_tells_a_user_without_unit_to_ask_an_administrator(client, db):
    user = User.objects.create_user("lost", role="unit_manager")
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    assert "chưa được gắn với đơn vị" in response.content.decode()


def test_it_shows_a_viewer_aggregates(client, olivia, tree, resident_factory):
    resident_factory(tree.kp1, name="Nguyễn Văn Riêng")
    client.force_login(olivia)
    page = client.get("/units/2023/25456/").content.decode()
    assert "Khu phố 1" in page and "Nguyễn Văn Riêng" not in page


def test_it_costs_a_bounded_number_of_queries(
    client, alice, tree, resident_factory, django_assert_max_num_queries
):
    for unit in (tree.kp1, tree.kp2, tree.b_kp1, tree.xa_c):
        resident_factory(unit)
    client.force_login(alice)
    # session + user + unit, then kpi_rows (reports), which must not grow with the units.
    with django_assert_max_num_queries(12):
        assert client.get("/units/2023/72/").status_code == 200
