"""The A4 print-out of a worklist: what a team takes to the doors on paper."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from gocua.campaigns.tests.factories import make_household
from gocua.fieldwork.tests.helpers import street


@pytest.fixture
def printed(client, bob, team_a):
    def get(**query):
        client.force_login(bob)
        response = client.get(reverse("fieldwork:worklist_print"), {"team": team_a.pk, **query})
        assert response.status_code == 200
        return response.content.decode()

    return get


def _sheets(body: str) -> list[str]:
    return re.findall(r'<section class="hamlet-page">(.*?)</section>', body, re.S)


def test_each_hamlet_sheet_repeats_team_hamlet_and_date_in_its_table_head(
    printed, team_a, tree, resident_factory
):
    street(tree.kp1, resident_factory, 2)
    street(tree.kp2, resident_factory, 1, prefix="Lê Lợi")
    sheets = _sheets(printed())
    assert len(sheets) == 2
    today = timezone.localdate().strftime("%d/%m/%Y")
    for sheet, hamlet in zip(sheets, ("Khu phố 1", "Khu phố 2"), strict=True):
        head = re.search(r"<thead>(.*?)</thead>", sheet, re.S).group(1)
        # In the thead, so the browser prints it again at the top of every page.
        assert hamlet in head and "Phường 1" in head
        assert team_a.name in head and today in head
        assert "Họ và tên" in head and "Điện thoại" in head


def test_each_sheet_has_a_signature_line_and_six_tick_columns_on_every_person(
    printed, tree, resident_factory
):
    street(tree.kp1, resident_factory, 3)
    (sheet,) = _sheets(printed())
    foot = re.search(r"<tfoot>(.*?)</tfoot>", sheet, re.S).group(1)
    assert "ký, ghi rõ họ tên" in foot
    people = re.findall(r"<tr>(.*?)</tr>", re.search(r"</tfoot>(.*)</table>", sheet, re.S)[1])
    assert len(people) == 6  # one row per person, both of each household
    assert all(row.count('<td class="tick">☐</td>') == 6 for row in people)


def test_the_address_is_printed_once_per_household(printed, tree, resident_factory):
    street(tree.kp1, resident_factory, 2, prefix="Trần Phú")
    body = printed()
    assert body.count("001 Trần Phú") == 1 and body.count("002 Trần Phú") == 1
    assert body.count('<tbody class="household">') == 2
    assert 'rowspan="2">001 Trần Phú' in body


def test_phones_and_ids_are_masked(printed, tree, resident_factory):
    household = make_household(tree.kp1, address="12 Hùng Vương")
    resident = resident_factory(tree.kp1, household=household, phone="0987654321")
    body = printed()
    assert "0987654321" not in body and "09*****321" in body
    assert resident.national_id not in body and "******" in body


def test_residents_without_a_household_print_under_their_hamlet_without_an_address(
    printed, tree, resident_factory, monkeypatch
):
    from gocua.fieldwork.views import worklists

    street(tree.kp1, resident_factory, 1, prefix="Trần Phú")
    alone = resident_factory(tree.kp1, name="Lê Thị Một Mình", phone="0912000111")
    real = worklists._worklist_rows

    def with_alone(ctx, *, offset, limit):
        rows = real(ctx, offset=offset, limit=limit)
        person = {**rows[0]["residents"][0], "id": alone.pk, "name": alone.full_name}
        no_household = {**rows[0], "id": None, "address": "", "residents": [person]}
        return [*rows, no_household]

    monkeypatch.setattr(worklists, "_worklist_rows", with_alone)
    (sheet,) = _sheets(printed())
    assert "Lê Thị Một Mình" in sheet and "09*****111" in sheet
    assert '<td class="addr" rowspan="1"></td>' in sheet


def test_the_page_is_laid_out_for_a4_landscape(printed, tree, resident_factory):
    from django.contrib.staticfiles import finders

    street(tree.kp1, resident_factory, 1)
    assert "css/worklist_print.css" in printed()
    with open(finders.find("css/worklist_print.css"), encoding="utf-8") as css:
        rules = css.read()
    assert "size:A4 landscape" in rules
    assert "tbody.household { break-inside:avoid" in rules


def test_the_phone_layout_never_reaches_paper():
    """The narrow-screen rules (tables as blocks, wide cells) once turned the printed sheet into
    a cut-off table: a width query must say `screen`, so paper only gets the print rules."""
    from pathlib import Path

    from django.conf import settings

    folder = Path(settings.BASE_DIR) / "gocua" / "static" / "css"
    queries = [
        (css.name, query.strip())
        for css in sorted(folder.glob("*.css"))
        for query in re.findall(r"@media([^{]*)\{", css.read_text())
    ]
    assert queries, "no media queries found: the stylesheets moved?"
    unfenced = [(n, q) for n, q in queries if "width" in q and not q.startswith("screen")]
    assert unfenced == []
