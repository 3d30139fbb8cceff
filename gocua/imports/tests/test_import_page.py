"""The import page: a unit manager imports for their own units only."""

from pathlib import Path

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


def post(client, worker_runs, **data):
    """Upload as the page does; the worker runs the queued job when the block ends."""
    with worker_runs():
        response = client.post("/imports/", data)
    return response


def test_it_queues_the_file_and_imports_only_the_officers_own_units(
    client, bob, worker_runs, settings
):
    client.force_login(bob)
    page = post(client, worker_runs, kind="citizens", file=upload([IN_A, IN_B]))
    job = ImportJob.objects.get()
    assert page.status_code == 302 and page["Location"] == f"/imports/{job.pk}/"
    job.refresh_from_db()
    assert list(Resident.objects.values_list("national_id", flat=True)) == [IN_A[0]]
    assert (job.user, job.inserted, job.rejected, job.file_name) == (bob, 1, 1, "danh-sach.csv")
    assert (job.status, job.progress, job.upload) == ("done", 1.0, "")
    # Queued (with the uploader's address), then done; and the chunk naming whom it wrote.
    runs = AuditEntry.objects.filter(action="import", object_type="import_job", object_id=job.pk)
    assert [e.detail["outcome"] for e in runs.order_by("id")] == ["queued", "done"]
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]  # file gone
    rejects = client.get(f"/imports/{job.pk}/rejects.csv")
    body = b"".join(rejects.streaming_content).decode()
    assert "ngoài phạm vi quản lý" in body and "25459" in body
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "Xong" in page and "tải tệp lỗi" in page


def test_the_job_page_polls_while_the_job_runs(client, bob):
    client.force_login(bob)
    with_queue = client.post("/imports/", {"kind": "citizens", "file": upload([IN_A])})
    job = ImportJob.objects.get()
    assert with_queue.status_code == 302 and job.status == "queued"  # the worker has not run
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert f'hx-get="/imports/{job.pk}/progress/"' in page and "Đang chờ" in page
    assert "vendor/htmx" in page
    ImportJob.objects.filter(pk=job.pk).update(status="running", rows=5000, progress=0.25)
    part = client.get(f"/imports/{job.pk}/progress/").content.decode()
    assert 'value="25"' in part and '<td class="n">5000</td>' in part
    ImportJob.objects.filter(pk=job.pk).update(status="done", progress=1.0)
    part = client.get(f"/imports/{job.pk}/progress/").content.decode()
    assert "hx-get" not in part  # finished: the page stops asking


def test_a_dry_run_writes_nothing_and_says_what_it_would_do(client, bob, worker_runs):
    client.force_login(bob)
    post(client, worker_runs, kind="citizens", file=upload([IN_A]), dry_run="on")
    job = ImportJob.objects.get()
    assert (job.status, job.inserted) == ("dry_run", 1)
    assert "Sẽ thêm mới" in client.get(f"/imports/{job.pk}/").content.decode()
    assert not Resident.objects.exists()


def test_an_unreadable_file_says_why_without_the_server_path(client, bob, settings):
    client.force_login(bob)
    bad = SimpleUploadedFile("x.csv", b"ho ten,dia chi\nAn,Tay Ninh\n")
    page = client.post("/imports/", {"kind": "citizens", "file": bad}).content.decode()
    assert "không tìm thấy dòng tiêu đề" in page and str(settings.MEDIA_ROOT) not in page
    assert not Resident.objects.exists() and not ImportJob.objects.exists()
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]


def test_others_get_nothing(client, bob, charlie, olivia, vy, worker_runs):
    client.force_login(bob)
    post(client, worker_runs, kind="citizens", file=upload([IN_A, IN_B]))
    job = ImportJob.objects.get()
    for other in (charlie, olivia, vy):
        client.force_login(other)
        for url in (
            f"/imports/{job.pk}/rejects.csv",
            f"/imports/{job.pk}/",
            f"/imports/{job.pk}/progress/",
        ):
            assert client.get(url).status_code == 404
        assert client.post(f"/imports/{job.pk}/cancel/").status_code == 404
    for not_a_manager in (olivia, vy):
        client.force_login(not_a_manager)
        assert client.get("/imports/").status_code == 404
    client.force_login(charlie)
    assert "danh-sach.csv" not in client.get("/imports/").content.decode()


def test_the_job_list_shows_command_line_imports_to_the_province(
    client, alice, bob, tree, tmp_path
):
    from gocua.imports.citizens import citizens_import

    path = tmp_path / "ds.csv"
    path.write_text("\n".join(",".join(r) for r in [EN, IN_A]) + "\n", encoding="utf-8")
    citizens_import(str(path), edition=2023, file_name="tinh-nhap.csv")
    client.force_login(alice)
    assert "tinh-nhap.csv" in client.get("/imports/").content.decode()
    assert "dòng lệnh" in client.get("/imports/").content.decode()
    client.force_login(bob)  # a commune officer follows their own imports only
    assert "tinh-nhap.csv" not in client.get("/imports/").content.decode()


def test_a_queued_job_can_be_cancelled_before_it_starts(client, bob, settings):
    client.force_login(bob)
    client.post("/imports/", {"kind": "citizens", "file": upload([IN_A])})
    job = ImportJob.objects.get()
    assert client.post(f"/imports/{job.pk}/cancel/").status_code == 302
    job.refresh_from_db()
    assert (job.status, job.upload) == ("cancelled", "")
    assert not Resident.objects.exists()


def test_a_worker_that_cannot_see_the_uploaded_file_fails_the_job_naming_gocua_files_dir(
    client, bob, settings, tmp_path, caplog
):
    from gocua.imports.tasks import import_run

    client.force_login(bob)
    client.post("/imports/", {"kind": "citizens", "file": upload([IN_A])})
    job = ImportJob.objects.get()
    # The worker runs on another machine whose GOCUA_FILES_DIR is not the web server's folder.
    settings.MEDIA_ROOT = tmp_path / "not-shared"
    assert import_run.call(job.pk) == {"status": "failed"}
    job.refresh_from_db()
    assert job.status == "failed" and job.finished_at is not None
    assert "GOCUA_FILES_DIR" in job.message and str(tmp_path) not in job.message
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "GOCUA_FILES_DIR" in page and not Resident.objects.exists()
    assert "GOCUA_FILES_DIR" in caplog.text and "Traceback" not in caplog.text
