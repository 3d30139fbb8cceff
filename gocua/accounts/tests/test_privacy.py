"""Masking by role, in Python and in templates."""

from django.template import Context, Template

from gocua.accounts import privacy


def test_it_masks_everywhere_but_the_own_page_of_managers(
    tree, alice, bob, vy, olivia, resident_factory
):
    r = resident_factory(tree.kp1, phone="0912345678")
    nid = r.national_id
    masked = nid[:3] + "******" + nid[-3:]
    for user in (alice, bob):
        assert privacy.nid_for(user, r) == masked
        assert privacy.phone_for(user, r) == "09*****678"
        assert privacy.nid_for(user, r, own_page=True) == nid
        assert privacy.phone_for(user, r, to_contact=True) == "0912345678"
    assert privacy.nid_for(vy, r, own_page=True) == masked
    assert privacy.phone_for(vy, r, to_contact=True) == "09*****678"
    assert privacy.nid_for(olivia, r, own_page=True) == ""
    assert privacy.phone_for(olivia, r) == ""


def test_it_renders_the_same_masks_in_templates(tree, bob, vy, resident_factory):
    r = resident_factory(tree.kp1, phone="0912345678")
    template = Template(
        "{% load privacy %}{{ r|nid_for:user }}|{{ r|phone_for:user }}|"
        "{{ r|nid_on_own_page:user }}|{{ r|phone_to_contact:user }}|"
        "{{ '072079001001'|mask_nid }}|{{ '0912345678'|mask_phone }}"
    )
    masked = r.national_id[:3] + "******" + r.national_id[-3:]
    assert template.render(Context({"r": r, "user": bob})) == (
        f"{masked}|09*****678|{r.national_id}|0912345678|072******001|09*****678"
    )
    assert template.render(Context({"r": r, "user": vy})) == (
        f"{masked}|09*****678|{masked}|09*****678|072******001|09*****678"
    )


def test_it_masks_an_empty_phone_as_empty(tree, bob, resident_factory):
    r = resident_factory(tree.kp1, phone="")
    assert privacy.phone_for(bob, r) == ""


def test_one_rule_for_phones_on_every_page(client, tree, bob, vy, resident_factory):
    """Full where the officer contacts that one person (the resident's page, home support,
    the roster); masked in lists; masked for volunteers everywhere."""
    from gocua.fieldwork.models import HomeSupportRequest

    r = resident_factory(tree.kp1, phone="0912345678")
    request = HomeSupportRequest.objects.create(resident=r, requested_at=r.updated_at)
    member = vy.member
    member.phone = "0987654321"
    member.save(update_fields=["phone"])
    client.force_login(bob)
    for url, full in (
        (f"/residents/{r.pk}/", "0912345678"),
        (f"/fieldwork/home-support/{request.pk}/", "0912345678"),
        (f"/campaigns/teams/{member.team_id}/", "0987654321"),
    ):
        assert full in client.get(url).content.decode(), url
    listing = client.get("/residents/").content.decode()
    assert "0912345678" not in listing
    client.force_login(vy)
    assert "0912345678" not in client.get(f"/residents/{r.pk}/").content.decode()
    assert privacy.phone_for(vy, member, to_contact=True) == "09*****321"
