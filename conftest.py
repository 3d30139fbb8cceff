"""Shared test fixtures: a small literal unit tree and named personas.

Tree (2023 edition codes of Tây Ninh, names as in the registry):
  72 Tỉnh Tây Ninh
  └─ 703 Thành phố Tây Ninh            ─ 705 Huyện Tân Biên (sibling district)
     ├─ 25456 Phường 1  ("Xã A")          └─ 25489 Thị trấn Tân Biên
     │   ├─ 25456-01 Khu phố 1
     │   └─ 25456-02 Khu phố 2
     └─ 25459 Phường 3  ("Xã B")
         └─ 25459-01 Khu phố 1
Personas: Alice (province admin), Bob (officer of Xã A), Vy (volunteer of Xã A, hamlet
KP1), Charlie (officer of Xã B: must see nothing of Xã A), Dan (district officer of 703),
Olivia (viewer for the province).
"""

import datetime as dt
import itertools
import os

import pytest

os.environ.setdefault("GOCUA_LOGIN_FAILURE_LIMIT", "5")

_serial = itertools.count(1)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """SQLite's test database in a file, not in memory: the worker's tests start real worker
    processes, which must reach the same database (PostgreSQL's is a database anyway)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        folder = tmp_path_factory.mktemp("database")
        database.setdefault("TEST", {})["NAME"] = str(folder / "test.sqlite3")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database as migrated, less the empty rollups a new installation starts with:
    most tests make residents with the ORM (no rollup hooks) and read live counts; tests of
    the rollups build them (rollup_rebuild, rollup_maintain)."""
    from gocua.reports.models import RollupState

    with django_db_blocker.unblock():
        RollupState.objects.all().delete()


@pytest.fixture(autouse=True)
def _files_in_tmp(settings, tmp_path_factory):
    """Uploaded files (imports waiting for the worker) go to a temporary folder."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("files")


@pytest.fixture
def worker_runs(django_capture_on_commit_callbacks):
    """`with worker_runs(): client.post(...)`: what the request queued after its commit (an
    import, a rebuild) runs when the block ends, as the worker would run it (the test's
    transaction never commits, so nothing would run otherwise)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings):
    """Background tasks run as soon as they are queued (django-tasks' immediate backend), so a
    test sees their effect; the worker's own tests use the database queue."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "quick"],
        }
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 (production) costs about 0.5 s a hash on these 2-core machines, and every persona
    is a hash: tests hash with MD5. A test about Argon2 itself puts it back with `settings`."""
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        *settings.PASSWORD_HASHERS,
    ]


@pytest.fixture
def tree(db):
    from gocua.geo.models import AdminUnit

    def unit(code, name, level, parent=None, kind=""):
        from gocua.lib.text import key

        path = f"{parent.path if parent else ''}{code}/"
        return AdminUnit.objects.create(
            edition=2023,
            code=code,
            name=name,
            level=level,
            parent=parent,
            path=path,
            depth=path.count("/") - 1,
            province_code="72",
            name_key=key(name),
            kind=kind,
            lat=11.3,
            lon=106.1,
        )

    t = type("Tree", (), {})()
    t.province = unit("72", "Tỉnh Tây Ninh", "province", kind="Tỉnh")
    t.district = unit("703", "Thành phố Tây Ninh", "district", t.province, "Thành phố")
    t.district2 = unit("705", "Huyện Tân Biên", "district", t.province, "Huyện")
    t.xa_a = unit("25456", "Phường 1", "commune", t.district, "Phường")
    t.xa_b = unit("25459", "Phường 3", "commune", t.district, "Phường")
    t.xa_c = unit("25489", "Thị trấn Tân Biên", "commune", t.district2, "Thị trấn")
    t.kp1 = unit("25456-01", "Khu phố 1", "hamlet", t.xa_a, "Khu phố")
    t.kp2 = unit("25456-02", "Khu phố 2", "hamlet", t.xa_a, "Khu phố")
    t.b_kp1 = unit("25459-01", "Khu phố 1", "hamlet", t.xa_b, "Khu phố")
    return t


def make_resident(
    unit,
    *,
    name="Nguyễn Văn An",
    born=dt.date(1990, 5, 3),
    sex="M",
    stage="none",
    level=None,
    household=None,
    phone="0912345678",
    **flags,
):
    """A resident with a valid national ID (synthetic)."""
    from gocua.lib.nid import make
    from gocua.people.models import Resident

    return Resident.objects.create(
        national_id=make(province_code="072", sex=sex, birth_year=born.year, serial=next(_serial)),
        full_name=name,
        birth_date=born,
        sex=sex,
        phone=phone,
        unit=unit,
        household=household,
        province_code="72",
        eid_stage=stage,
        eid_level=level if level is not None else (2 if stage != "none" else 0),
        **flags,
    )


@pytest.fixture
def resident_factory(db):
    return make_resident


def _user(username, role, unit, **extra):
    from gocua.accounts.models import User

    user = User.objects.create_user(
        username=username, password="pw-" + username + "-2026", role=role, unit=unit, **extra
    )
    user.raw_password = "pw-" + username + "-2026"
    return user


@pytest.fixture
def alice(tree):
    return _user("alice", "province_admin", tree.province)


@pytest.fixture
def bob(tree):
    return _user("bob", "unit_manager", tree.xa_a)


@pytest.fixture
def charlie(tree):
    return _user("charlie", "unit_manager", tree.xa_b)


@pytest.fixture
def dan(tree):
    return _user("dan", "unit_manager", tree.district)


@pytest.fixture
def olivia(tree):
    return _user("olivia", "viewer", tree.province)


@pytest.fixture
def vy(tree):
    """A youth-union volunteer of Xã A with hamlet Khu phố 1 assigned."""
    from gocua.campaigns.models import Assignment, Campaign, Member, Team

    user = _user("vy", "field_member", tree.xa_a)
    campaign = Campaign.objects.create(
        name="Chiến dịch thử",
        province=tree.province,
        start_date=dt.date(2026, 10, 1),
        deadline=dt.date(2026, 12, 31),
        is_current=True,
    )
    team = Team.objects.create(campaign=campaign, unit=tree.xa_a, name="Tổ VNeID Phường 1")
    member = Member.objects.create(
        team=team, full_name="Lê Thị Vy", affiliation="youth_union", user=user
    )
    Assignment.objects.create(member=member, hamlet=tree.kp1)
    user.member = member
    return user


@pytest.fixture
def token_for(db):
    """A live API bearer token for a user: `token_for(bob)` → 'gc_…' (send as Bearer)."""
    from gocua.accounts.services import token_create

    def make(user):
        return token_create(user=user, campaign_deadline=None)[1]

    return make


@pytest.fixture
def replica(settings):
    """`replica()` adds a database connection taken for a standby (settings.DATABASE_REPLICAS)
    and returns its alias: a second connection to the test database, or with `**changes` to
    its settings (a port nobody listens on) one that cannot be reached. It sees only what the
    primary committed: tests reading through it are transactional. Made for this thread and
    not listed in DATABASES, as the test case allows a connection made during a test."""
    import copy

    from django.db import DEFAULT_DB_ALIAS, connections
    from django.db.utils import load_backend

    from gocua.lib import replicas

    added: list[str] = []

    def add(**changes):
        alias = f"replica_test_{len(added) + 1}"
        settings_dict = {**copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict), **changes}
        connections[alias] = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(
            settings_dict, alias
        )
        added.append(alias)
        settings.DATABASE_REPLICAS = list(added)
        return alias

    replicas.forget_health()
    yield add
    for alias in added:
        connections[alias].close()
        del connections[alias]
    replicas.forget_health()


@pytest.fixture
def browser(monkeypatch):
    """Debian's chromium driven by Playwright, for the browser tests (gocua.browser_testing)."""
    from django.db import connections
    from playwright.sync_api import expect, sync_playwright

    from gocua.browser_testing import ARGS, CHROMIUM

    # The machine may be busy (2 cores shared with the server thread and other work).
    expect.set_options(timeout=30_000)
    # Playwright's sync API runs an event loop in this thread; the test's ORM calls are safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()
        # While Playwright's loop runs, the test's queries use a connection of their own (the
        # connections are context-local): close it, or PostgreSQL cannot drop the test database.
        connections.close_all()
