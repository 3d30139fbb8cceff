"""Writes to the administrative-unit tree."""

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction

from gocua.geo.models import AdminUnit, Edition, Level
from gocua.lib.adminunits import query
from gocua.lib.text import key


class UnitError(ValueError):
    pass


def _kind(full_name: str, short_name: str) -> str:
    return full_name[: len(full_name) - len(short_name)].strip() if short_name else ""


def _province_rows(province_code: str, edition: int) -> tuple[str, list[dict[str, Any]]]:
    """The province's two-digit code and its communes' rows in `vietnamadminunits`."""
    code = province_code.strip()
    if not (code.isdigit() and code.isascii() and len(code) <= 3):
        raise UnitError(f"a province code is 2 digits (72, 80 …), not {province_code!r}")
    code = code.zfill(2)
    # `query` takes no parameters; the code is checked to be digits above.
    if edition == Edition.E2023:
        rows = query(
            f"SELECT * FROM admin_units_legacy WHERE provinceCode = '{code}' "
            "ORDER BY districtCode, wardCode"
        )
    elif edition == Edition.E2025:
        rows = query(f"SELECT * FROM admin_units WHERE provinceCode = '{code}' ORDER BY wardCode")
    else:
        raise UnitError(f"edition must be 2023 or 2025, not {edition}")
    if not rows:
        raise UnitError(f"no province with code {code} in the {edition} edition")
    return code, rows


@transaction.atomic
def units_load(*, province_code: str, edition: int) -> dict[str, int]:
    """Load one province's real units from `vietnamadminunits`. Idempotent: names and centroids
    are refreshed, codes never change. Returns counts per level."""
    code, rows = _province_rows(province_code, edition)
    first = rows[0]
    counts = {"province": 0, "district": 0, "commune": 0}
    province = _upsert(
        edition=edition,
        code=code,
        name=first["province"],
        kind=_kind(first["province"], first["provinceShort"]),
        level=Level.PROVINCE,
        parent=None,
        province_code=code,
        lat=first["provinceLat"],
        lon=first["provinceLon"],
    )
    counts["province"] += 1
    districts: dict[str, AdminUnit] = {}
    for row in rows:
        parent = province
        if edition == Edition.E2023:
            dcode = row["districtCode"]
            if dcode not in districts:
                districts[dcode] = _upsert(
                    edition=edition,
                    code=dcode,
                    name=row["district"],
                    kind=row["districtType"] or "",
                    level=Level.DISTRICT,
                    parent=province,
                    province_code=code,
                    lat=row["districtLat"],
                    lon=row["districtLon"],
                )
                counts["district"] += 1
            parent = districts[dcode]
        if row["wardCode"] is None:
            # An island district with no communes of its own (Côn Đảo, Bạch Long Vĩ, Cồn Cỏ,
            # Hoàng Sa, Lý Sơn in the 2023 edition): the district is its only row.
            continue
        _upsert(
            edition=edition,
            code=row["wardCode"],
            name=row["ward"],
            kind=row["wardType"] or "",
            level=Level.COMMUNE,
            parent=parent,
            province_code=code,
            lat=row["wardLat"],
            lon=row["wardLon"],
            area_km2=row.get("wardAreaKm2"),
        )
        counts["commune"] += 1
    return counts


def _upsert(*, edition: int, code: str, parent: AdminUnit | None, **fields: Any) -> AdminUnit:
    path = f"{parent.path if parent else ''}{code}/"
    defaults = {
        **fields,
        "parent": parent,
        "path": path,
        "depth": path.count("/") - 1,
        "name_key": key(fields["name"]),
    }
    unit, _ = AdminUnit.objects.update_or_create(edition=edition, code=code, defaults=defaults)
    return unit


def hamlet_get_or_create(*, commune: AdminUnit, name: str) -> AdminUnit:
    """The hamlet of that name in the commune ('Ấp 1' and 'ap 1' are the same hamlet).

    New hamlets get the code '<commune code>-<nn>'. Safe to call concurrently."""
    if commune.level != Level.COMMUNE:
        raise UnitError(f"{commune} is not a commune")
    name_key = key(name)
    if not name_key:
        raise UnitError("hamlet name is empty")
    existing = AdminUnit.objects.filter(parent=commune, name_key=name_key).first()
    if existing:
        return existing
    kind = next((k for k in HAMLET_KINDS if name.startswith(k + " ")), "")
    for _attempt in range(3):
        count = AdminUnit.objects.filter(parent=commune, level=Level.HAMLET).count()
        code = f"{commune.code}-{count + 1 + _attempt:02d}"
        path = f"{commune.path}{code}/"
        try:
            with transaction.atomic():
                return AdminUnit.objects.create(
                    edition=commune.edition,
                    code=code,
                    name=name,
                    kind=kind,
                    level=Level.HAMLET,
                    parent=commune,
                    path=path,
                    depth=commune.depth + 1,
                    province_code=commune.province_code,
                    name_key=name_key,
                    lat=commune.lat,
                    lon=commune.lon,
                )
        except IntegrityError:
            existing = AdminUnit.objects.filter(parent=commune, name_key=name_key).first()
            if existing:
                return existing
    raise UnitError(f"could not create hamlet {name!r} in {commune}")


def _by_commune_and_key(hamlets: Iterable[AdminUnit]) -> dict[tuple[int, str], AdminUnit]:
    return {(h.parent_id, h.name_key): h for h in hamlets if h.parent_id is not None}


def hamlets_ensure(wanted: list[tuple[AdminUnit, str]]) -> dict[tuple[int, str], AdminUnit]:
    """Many hamlets at once (an import's new hamlets): {(commune id, name key): hamlet}.

    Same invariants as hamlet_get_or_create, in three queries instead of three per hamlet; falls
    back to it one by one if another writer created some of them meanwhile."""
    by_key: dict[tuple[int, str], str] = {}
    for commune, name in wanted:
        by_key.setdefault((commune.id, key(name)), name)
    communes = {c.id: c for c, _ in wanted}
    found = _by_commune_and_key(
        AdminUnit.objects.filter(parent_id__in=list(communes), level=Level.HAMLET)
    )
    next_number: dict[int, int] = {}
    for (parent_id, _), hamlet in found.items():
        number = hamlet.code.rsplit("-", 1)[-1]
        if number.isdigit():
            next_number[parent_id] = max(next_number.get(parent_id, 0), int(number))
    new = []
    for (commune_id, name_key), name in by_key.items():
        if (commune_id, name_key) in found:
            continue
        commune = communes[commune_id]
        next_number[commune_id] = next_number.get(commune_id, 0) + 1
        code = f"{commune.code}-{next_number[commune_id]:02d}"
        kind = next((k for k in HAMLET_KINDS if name.startswith(k + " ")), "")
        new.append(
            AdminUnit(
                edition=commune.edition,
                code=code,
                name=name,
                kind=kind,
                level=Level.HAMLET,
                parent=commune,
                path=f"{commune.path}{code}/",
                depth=commune.depth + 1,
                province_code=commune.province_code,
                name_key=name_key,
                lat=commune.lat,
                lon=commune.lon,
            )
        )
    try:
        with transaction.atomic():
            AdminUnit.objects.bulk_create(new)
        found.update(_by_commune_and_key(new))
    except IntegrityError:
        for commune, name in wanted:
            hamlet = hamlet_get_or_create(commune=commune, name=name)
            found[(commune.id, hamlet.name_key)] = hamlet
    return found


HAMLET_KINDS = ("Ấp", "Khu phố", "Thôn", "Tổ dân phố", "Xóm", "Bản", "Khóm", "Tổ", "Khu")
