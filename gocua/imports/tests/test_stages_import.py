import datetime as dt

import pytest
from django.utils import timezone

from gocua.imports.citizens import citizens_import
from gocua.imports.stages import stages_import
from gocua.imports.tests.conftest import AN, BINH, CUONG, read_rejects
from gocua.people.models import Resident, StageEvent

pytestmark = pytest.mark.django_db
HEADER = ["national_id", "eid_stage", "eid_level", "stage_at", "last_used_at"]


@pytest.fixture
def people(tay_ninh, write_csv):
    citizens_import(write_csv([AN, BINH, CUONG], name="people.csv"), edition=2023)


def stages(path, **kwargs):
    return stages_import(path, **kwargs)[0].as_dict()


def test_it_applies_vietnamese_and_english_stage_names_with_events(people, write_csv):
    path = write_csv(
        [
            [AN[0], "Đã kích hoạt", "2", "20/11/2026 10:00", ""],
            [BINH[0], "registered", "", "2026-11-21", ""],
            [CUONG[0], "Đã sử dụng", "Mức độ 2", "22/11/2026 08:30", "22/11/2026 09:00"],
        ],
        header=HEADER,
        name="extract.csv",
    )
    summary = stages(path)
    assert summary == {
        "rows": 3,
        "inserted": 0,
        "updated": 3,
        "unchanged": 0,
        "rejected": 0,
        "warnings": 0,
        "rejects_file": None,
        "stale": 0,
    }
    an = Resident.objects.get(national_id=AN[0])
    tz = timezone.get_current_timezone()
    assert (an.eid_stage, an.eid_level) == ("activated", 2)
    assert an.stage_at == dt.datetime(2026, 11, 20, 10, 0, tzinfo=tz)
    event = StageEvent.objects.get(resident=an)
    assert (event.from_stage, event.to_stage, event.source) == ("none", "activated", "extract")
    cuong = Resident.objects.get(national_id=CUONG[0])
    assert cuong.eid_stage == "used"
    assert cuong.last_used_at == dt.datetime(2026, 11, 22, 9, 0, tzinfo=tz)
    assert StageEvent.objects.count() == 3


def test_it_ignores_a_row_older_than_the_stored_stage_as_stale(people, write_csv):
    stages(
        write_csv(
            [[AN[0], "activated", "2", "2026-11-20 10:00", ""]], header=HEADER, name="new.csv"
        )
    )
    summary = stages(
        write_csv(
            [[AN[0], "registered", "2", "2026-11-01 10:00", ""]], header=HEADER, name="old.csv"
        )
    )
    assert summary["stale"] == 1 and summary["updated"] == 0
    assert Resident.objects.get(national_id=AN[0]).eid_stage == "activated"
    assert StageEvent.objects.count() == 1


def test_rows_for_one_person_apply_in_time_order_within_a_file(people, write_csv):
    path = write_csv(
        [
            [AN[0], "registered", "", "2026-11-01", ""],
            [AN[0], "approved", "", "2026-11-05", ""],
            [AN[0], "none", "", "2026-10-01", ""],  # older than what came before it: stale
        ],
        header=HEADER,
        name="history.csv",
    )
    summary = stages(path)
    assert summary["updated"] == 2 and summary["stale"] == 1
    assert Resident.objects.get(national_id=AN[0]).eid_stage == "approved"
    assert list(StageEvent.objects.order_by("at").values_list("to_stage", flat=True)) == [
        "registered",
        "approved",
    ]


def test_the_same_extract_twice_changes_nothing(people, write_csv):
    path = write_csv([[AN[0], "Đã duyệt", "2", "2026-11-20", ""]], header=HEADER, name="x.csv")
    stages(path)
    summary = stages(path)
    assert summary["unchanged"] == 1 and summary["updated"] == 0
    assert StageEvent.objects.count() == 1


def test_it_rejects_unknown_people_and_bad_stages_and_keeps_the_rest(people, write_csv, tmp_path):
    rejects = tmp_path / "rejects.csv"
    path = write_csv(
        [
            ["072090009999", "registered", "", "2026-11-01", ""],
            [AN[0], "đang chờ", "", "2026-11-01", ""],
            [BINH[0], "registered", "5", "2026-11-01", ""],
            [CUONG[0], "failed", "", "2099-01-01", ""],
            [AN[0], "registered", "", "2026-11-02", ""],
        ],
        header=HEADER,
        name="bad.csv",
    )
    summary = stages(path, rejects_path=str(rejects))
    assert summary["rejected"] == 4 and summary["updated"] == 1
    table = read_rejects(rejects)
    fields = {row[0]: row[1] for row in table[1:]}
    assert fields == {
        "2": "Số định danh cá nhân",
        "3": "Trạng thái",
        "4": "Mức độ",
        "5": "Ngày cập nhật",
    }
    assert "072******999" in table[1][2] and "072090009999" not in table[1][2]


def test_a_unit_manager_gets_the_same_answer_for_unknown_and_foreign_people(
    people, write_csv, tmp_path
):
    from gocua.accounts.models import User
    from gocua.geo.models import AdminUnit

    phuong1 = AdminUnit.objects.get(edition=2023, code="25456")
    officer = User.objects.create_user("officer", role="unit_manager", unit=phuong1)
    rejects = tmp_path / "r.csv"
    path = write_csv([[CUONG[0], "registered", "", "2026-11-01", ""]], header=HEADER, name="f.csv")
    summary = stages(path, user=officer, rejects_path=str(rejects))
    assert summary["rejected"] == 1
    assert "không có trong danh sách dân cư của đơn vị bạn" in read_rejects(rejects)[1][2]
    assert Resident.objects.get(national_id=CUONG[0]).eid_stage == "none"


def test_a_dry_run_writes_nothing(people, write_csv):
    path = write_csv([[AN[0], "activated", "2", "2026-11-20", ""]], header=HEADER, name="d.csv")
    summary = stages(path, dry_run=True)
    assert summary["updated"] == 1
    assert Resident.objects.get(national_id=AN[0]).eid_stage == "none"
    assert not StageEvent.objects.exists()
