import pytest

from gocua.accounts.models import User
from gocua.campaigns.models import Assignment
from gocua.geo.models import AdminUnit
from gocua.synthetic.demo_users import demo_users_ensure


@pytest.mark.django_db
def test_it_makes_one_account_per_role_and_can_run_twice(province):
    demo_users_ensure(province=province.unit, password="go-cua-demo-2026")
    made = demo_users_ensure(province=province.unit, password="go-cua-demo-2026")
    assert [m["role"] for m in made] == [
        "province_admin",
        "unit_manager",
        "unit_manager",
        "field_member",
        "viewer",
    ]
    volunteer = User.objects.get(username="demo_tnv")
    assert volunteer.check_password("go-cua-demo-2026")
    hamlets = AdminUnit.objects.filter(parent=volunteer.unit, level="hamlet").count()
    assert Assignment.objects.filter(member__user=volunteer).count() == hamlets > 0
