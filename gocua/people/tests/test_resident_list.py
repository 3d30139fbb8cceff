"""The resident search list: unit managers and above, scoped, masked, paginated."""

import pytest

from conftest import make_resident


@pytest.fixture
def people(tree):
    return {
        "an": make_resident(tree.kp1, name="Nguyễn Văn An", phone="0912345678"),
        "binh": make_resident(tree.kp2, name="Trần Thị Bình", sex="F"),
        "cuong": make_resident(tree.b_kp1, name="Lê Văn Cường", phone="0987654321"),
    }


def test_it_lists_the_residents_of_the_jurisdiction_masked(client, bob, people):
    client.force_login(bob)
    page = client.get("/residents/").content.decode()
    an = people["an"]
    assert "Nguyễn Văn An" in page and "Trần Thị Bình" in page
    assert "Lê Văn Cường" not in page
    assert an.national_id not in page and an.national_id[:3] + "******" in page
    assert "0912345678" not in page


def search(client, query: str, **params) -> str:
    return client.get("/residents/", {"q": query, **params}).content.decode()


def test_a_search_is_a_get_that_the_page_shows_back(client, bob, people):
    client.force_login(bob)
    page = search(client, "bình")
    assert "Trần Thị Bình" in page and "Nguyễn Văn An" not in page
    assert 'method="get"' in page and 'value="bình"' in page
    assert client.post("/residents/", {"q": "bình"}).status_code == 405


@pytest.mark.parametrize(
    "query", ["nguyen van an", "NGUYEN VAN AN", "Nguyễn Văn An", "nguyễn văn", "van an", "an"]
)
def test_it_finds_a_name_whatever_the_case_and_the_diacritics(client, bob, people, query):
    client.force_login(bob)
    page = search(client, query)
    assert "Nguyễn Văn An" in page and "Trần Thị Bình" not in page


def test_it_matches_names_from_the_start_of_a_word(client, bob, tree, people):
    make_resident(tree.kp1, name="Đặng Thị Hoàng Oanh")
    client.force_login(bob)
    assert "Đặng Thị Hoàng Oanh" in search(client, "dang thi")
    assert "Đặng Thị Hoàng Oanh" in search(client, "hoang")
    # "oang" is inside "hoàng" but starts no word: not a match.
    assert "Đặng Thị Hoàng Oanh" not in search(client, "oang")


def test_it_finds_a_resident_by_a_whole_masked_or_partial_id_inside_the_jurisdiction(
    client, bob, people
):
    from gocua.lib.nid import mask

    client.force_login(bob)
    an, cuong = people["an"], people["cuong"]
    for query in (
        an.national_id,
        mask(an.national_id),  # as every list shows it: 072******xyz
        an.national_id[:4] + "****" + an.national_id[-4:],
        an.national_id[-6:],
        " ".join([an.national_id[:6], an.national_id[6:]]),
    ):
        page = search(client, query)
        assert "Nguyễn Văn An" in page and "Trần Thị Bình" not in page, query
    for query in (cuong.national_id, mask(cuong.national_id), cuong.national_id[-6:]):
        page = search(client, query)
        assert "Lê Văn Cường" not in page and "Không tìm thấy" in page, query
    # Two digits say too little.
    assert "Không tìm thấy" in search(client, an.national_id[-2:])


def test_it_narrows_to_a_unit_and_404s_outside(client, bob, people):
    client.force_login(bob)
    page = client.get("/residents/?unit=25456-02").content.decode()
    assert "Trần Thị Bình" in page and "Nguyễn Văn An" not in page
    assert client.get("/residents/?unit=25459").status_code == 404
    assert client.get("/residents/?unit=703").status_code == 404


@pytest.mark.parametrize("persona", ["vy", "olivia"])
def test_it_is_404_for_field_members_and_viewers(client, persona, request, people):
    client.force_login(request.getfixturevalue(persona))
    assert client.get("/residents/").status_code == 404
    assert client.get("/residents/", {"q": "An"}).status_code == 404


def test_it_asks_anonymous_users_to_log_in(client, people):
    response = client.get("/residents/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_pager_keeps_the_search(client, alice, tree):
    for i in range(60):
        make_resident(tree.kp1, name=f"Người Thứ {i:03d}")
    client.force_login(alice)
    page = search(client, "nguoi thu")
    assert 'href="?q=nguoi%20thu&amp;page=2"' in page
    assert "Người Thứ 055" in client.get("/residents/?q=nguoi+thu&page=2").content.decode()


def test_it_pages_with_a_bounded_number_of_queries(
    client, alice, tree, django_assert_max_num_queries
):
    for i in range(130):
        make_resident(tree.kp1, name=f"Người Thứ {i:03d}")
    client.force_login(alice)
    with django_assert_max_num_queries(6):
        response = client.get("/residents/?page=2")
    assert response.status_code == 200
    assert "Người Thứ 050" in response.content.decode()
    with django_assert_max_num_queries(6):
        response = client.get("/residents/", {"q": "Người", "page": "3"})
    assert "Người Thứ 100" in response.content.decode()


def test_it_survives_nul_characters(client, bob, people):
    client.force_login(bob)
    assert client.get("/residents/?unit=25%00456").status_code == 404
    assert client.get("/residents/", {"q": "Bình\x00"}).status_code == 200
