"""The import page: a unit manager imports for their own units only."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gocua.accounts.models import AuditEntry
from gocua.imports.models import ImportJob
from gocua.imports.tests.conftest import EN
from gocua.people.models import Resident

pytestmark = pytest.mark.django_db

# Synthetic people: one in Xã A (Phường 1, 25456), one in Xã B (Phường 3, 25459).
IN_A = [
    "072090001234",
    "Nguyễn Văn An",
    "05/03/1990",
    "Nam",
    "0912345678",
    "25456",
    "Khu phố 1",
    "H001",
    "12 Trần Hưng Đạo",
]
IN_B = [
    "072200001236",
    "Lê Văn Cường",
    "2000-07-01",
    "M",
    "",
    "25459",
    "Khu phố 1",
    "H002",
    "5 Lê Lợi",
]


def upload(rows, name="danh-sach.csv"):
    text = "\n".join(",".join(r) for r in [EN, *rows]) + "\n"
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def test_it_imports_only_the_officers_own_units(client, bob, settings, tmp_path):
    settings.IMPORT_DIR = tmp_path
    client.force_login(bob)
    page = client.post("/imports/", {"kind": "citizens", "file": upload([IN_A, IN_B])})
    assert page.status_code == 200
    assert list(Resident.objects.values_list("national_id", flat=True)) == [IN_A[0]]
    job = ImportJob.objects.get()
    assert (job.user, job.inserted, job.rejected, job.file_name) == (bob, 1, 1, "danh-sach.csv")
    assert AuditEntry.objects.filter(action="import", object_id=str(job.pk)).exists()
    assert not list(tmp_path.glob("*/upload.*"))  # the upload itself is not kept
    rejects = client.get(f"/imports/{job.pk}/rejects.csv")
    body = b"".join(rejects.streaming_content).decode()
    assert "outside your jurisdiction" in body and "25459" in body


def test_a_dry_run_writes_nothing(client, bob, settings, tmp_path):
    settings.IMPORT_DIR = tmp_path
    client.force_login(bob)
    page = client.post("/imports/", {"kind": "citizens", "file": upload([IN_A]), "dry_run": "on"})
    assert "chạy thử" in page.content.decode().lower()
    assert not Resident.objects.exists()


def test_an_unreadable_file_says_why_without_the_server_path(client, bob, settings, tmp_path):
    settings.IMPORT_DIR = tmp_path
    client.force_login(bob)
    bad = SimpleUploadedFile("x.csv", b"ho ten,dia chi\nAn,Tay Ninh\n")
    page = client.post("/imports/", {"kind": "citizens", "file": bad}).content.decode()
    assert "no recognisable header" in page and str(tmp_path) not in page
    assert not Resident.objects.exists()


def test_others_get_nothing(client, bob, charlie, olivia, vy, settings, tmp_path):
    settings.IMPORT_DIR = tmp_path
    client.force_login(bob)
    client.post("/imports/", {"kind": "citizens", "file": upload([IN_A, IN_B])})
    job = ImportJob.objects.get()
    for other in (charlie, olivia, vy):
        client.force_login(other)
        assert client.get(f"/imports/{job.pk}/rejects.csv").status_code == 404
    for not_a_manager in (olivia, vy):
        client.force_login(not_a_manager)
        assert client.get("/imports/").status_code == 404
    client.force_login(charlie)
    assert "danh-sach.csv" not in client.get("/imports/").content.decode()
