"""Vietnamese by default, English too: the header's switch, Accept-Language, and the committed
catalogue (CI has no gettext tools, so the .mo in git must say what the .po says)."""

import ast
import re
from pathlib import Path

import polib
from django.conf import settings

LOCALE = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PACKAGE = Path(settings.BASE_DIR) / "gocua"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdif]|%[sdif]|\{[a-z_]*\}")


def test_it_shows_the_login_page_in_vietnamese_by_default(client, db):
    page = client.get("/accounts/login/").content.decode()
    assert '<html lang="vi">' in page
    assert "Đăng nhập GõCửa" in page
    assert 'action="/i18n/setlang/"' in page


def test_it_shows_the_login_page_in_english_once_chosen(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    page = client.get("/accounts/login/").content.decode()
    assert '<html lang="en">' in page
    assert "Sign in to GõCửa" in page
    assert "Đăng nhập GõCửa" not in page


def test_it_goes_back_to_the_page_it_was_on(client, db):
    response = client.post(
        "/i18n/setlang/", {"language": "en"}, HTTP_REFERER="http://testserver/accounts/login/"
    )
    assert (
        response.status_code == 302 and response["Location"] == "http://testserver/accounts/login/"
    )


def test_it_goes_back_to_vietnamese(client, db):
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    client.post("/i18n/setlang/", {"language": "vi", "next": "/accounts/login/"})
    assert "Đăng nhập GõCửa" in client.get("/accounts/login/").content.decode()


def test_an_english_browser_still_gets_vietnamese_until_english_is_chosen(client, db):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Đăng nhập GõCửa" in page


def test_it_keeps_vietnamese_for_a_language_it_does_not_have(client, db):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Đăng nhập GõCửa" in page


def test_it_translates_the_pages_behind_the_login(client, bob):
    client.force_login(bob)
    client.post("/i18n/setlang/", {"language": "en"})
    page = client.get("/").content.decode()
    assert "Sign out" in page and "Đăng xuất" not in page


def test_it_has_every_string_translated():
    po = polib.pofile(str(LOCALE / "django.po"))
    assert not po.fuzzy_entries(), [e.msgid for e in po.fuzzy_entries()]
    assert not po.untranslated_entries(), [e.msgid for e in po.untranslated_entries()]
    assert not po.obsolete_entries(), [e.msgid for e in po.obsolete_entries()]


def test_it_keeps_the_placeholders():
    for entry in polib.pofile(str(LOCALE / "django.po")):
        translations = [entry.msgstr] if not entry.msgid_plural else entry.msgstr_plural.values()
        for text in translations:
            assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(entry.msgid)), (
                entry.msgid
            )


def test_it_ships_a_compiled_catalogue_that_matches_the_po():
    """Compares contents, not mtimes (a fresh clone gives both files the same time)."""

    def pairs(entries):
        return {
            (e.msgctxt, e.msgid, e.msgid_plural): (e.msgstr, sorted(e.msgstr_plural.items()))
            for e in entries
            if e.msgid  # the header
        }

    po = polib.pofile(str(LOCALE / "django.po"))
    mo = polib.mofile(str(LOCALE / "django.mo"))
    assert pairs(po.translated_entries()) == pairs(mo), (
        "run `manage.py compilemessages` and commit django.mo"
    )


def test_it_marks_strings_under_names_that_makemessages_extracts():
    """`gettext_lazy as _lazy` translates at run time but xgettext never sees the string, so it
    silently stays Vietnamese: only `_` (for gettext or gettext_lazy) or the real name."""
    marking = {"gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy"}
    marking |= {"pgettext", "pgettext_lazy", "npgettext", "npgettext_lazy"}
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
                for alias in node.names:
                    if alias.name not in marking or alias.asname in (None, alias.name):
                        continue
                    if alias.asname == "_" and alias.name in ("gettext", "gettext_lazy"):
                        continue
                    wrong.append(f"{path.relative_to(PACKAGE)}: {alias.name} as {alias.asname}")
    assert not wrong, wrong
