from django.db import models
from django.utils.translation import gettext_lazy as _

from gocua.lib.text import fold
from gocua.people.walking import walk_key_for


class Stage(models.TextChoices):
    """The level-2 VNeID funnel. `failed` branches off `registered`."""

    NONE = "none", _("Chưa đăng ký")
    REGISTERED = "registered", _("Đã thu nhận")
    APPROVED = "approved", _("Đã duyệt")
    FAILED = "failed", _("Không đạt")
    ACTIVATED = "activated", _("Đã kích hoạt")
    USED = "used", _("Đã sử dụng")


class Sex(models.TextChoices):
    MALE = "M", _("Nam")
    FEMALE = "F", _("Nữ")


class BytewiseCharField(models.CharField):
    """Text compared byte by byte, for stored sort and search keys: PostgreSQL's "C" collation
    (a language collation would ignore the spaces and punctuation the walking-order key is
    built on, and a LIKE 'prefix%' could not use the index); SQLite compares bytes already."""

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params


class Household(models.Model):
    """A household (hộ) in a hamlet (or directly in a commune when the file names no hamlet)."""

    unit = models.ForeignKey("geo.AdminUnit", on_delete=models.PROTECT, related_name="households")
    code = models.CharField(max_length=32, blank=True)  # Mã hộ from the population database
    address = models.CharField(max_length=255, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    province_code = models.CharField(max_length=3)
    # Walking order (commune, hamlet, street, house number), computed on every write from the
    # address and the unit: see gocua.people.walking. Every list of households sorts by it.
    walk_key = BytewiseCharField(max_length=255, default="", db_default="", editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=~models.Q(code=""), name="household_code"
            ),
        ]
        indexes = [
            # Imports find a household without a Mã hộ by its address (see imports.citizens).
            models.Index(
                fields=["address"], condition=models.Q(code=""), name="household_address_nocode"
            ),
            # A page of a worklist is the next N households in walking order.
            models.Index(fields=["walk_key"], name="household_walk_key"),
        ]

    def __str__(self) -> str:
        return self.address or self.code or f"#{self.pk}"

    def save(self, *args, **kwargs) -> None:

        self.walk_key = walk_key_for(self.address, self.unit)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"address", "unit"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "walk_key"}
        super().save(*args, **kwargs)


class Resident(models.Model):
    """A person in the registry, with their confirmed VNeID stage.

    The stage here only ever comes from official extracts (or the citizens list); field claims
    live beside it in fieldwork and never overwrite it.
    """

    national_id = models.CharField(max_length=12)
    full_name = models.CharField(max_length=120)
    # The name as searched: lower case, no diacritics, đ → d ("nguyen van long"); written with
    # the name on every path (save, imports, the generator) by `name_search_of`.
    name_search = BytewiseCharField(max_length=120, default="", db_default="", editable=False)
    birth_date = models.DateField()  # 1 January when only the year is known
    birth_year_only = models.BooleanField(default=False)
    sex = models.CharField(max_length=1, choices=Sex.choices)
    phone = models.CharField(max_length=10, blank=True)
    unit = models.ForeignKey("geo.AdminUnit", on_delete=models.PROTECT, related_name="residents")
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.SET_NULL, related_name="residents"
    )
    province_code = models.CharField(max_length=3)  # kept for partitioning by province
    # Flags. The database default lets bulk loads leave out the flags an import never sets.
    elderly = models.BooleanField(default=False)
    disabled = models.BooleanField(default=False, db_default=False)
    no_smartphone = models.BooleanField(default=False, db_default=False)
    away = models.BooleanField(
        default=False, db_default=False
    )  # working or studying elsewhere, still resident
    moved_out = models.BooleanField(
        default=False, db_default=False
    )  # no longer a resident: not eligible
    deceased = models.BooleanField(default=False, db_default=False)
    needs_id_card = models.BooleanField(default=False, db_default=False)
    # Confirmed VNeID state (from extracts)
    eid_stage = models.CharField(max_length=10, choices=Stage.choices, default=Stage.NONE)
    eid_level = models.PositiveSmallIntegerField(default=0)
    stage_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # A constraint, not unique=True: on PostgreSQL unique=True on a CharField adds a second
        # `_like` index that slows bulk loads by half and is never used (IDs are matched whole).
        constraints = [models.UniqueConstraint(fields=["national_id"], name="resident_nid")]
        # A search by the start of a name reads the index (byte order: LIKE 'prefix%').
        indexes = [models.Index(fields=["name_search"], name="resident_name_search")]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs) -> None:
        self.name_search = name_search_of(self.full_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "full_name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_search"}
        super().save(*args, **kwargs)


def name_search_of(full_name: str) -> str:
    """The stored search form of a name, and of what is typed in the search box."""
    # Uncached: names are nearly all different, so caching them would only evict the headers
    # and hamlet names `fold`'s cache is for (and hold megabytes through an import).
    return fold.__wrapped__(full_name)[:120]


class StageEvent(models.Model):
    """Append-only history of confirmed stage changes. Replaying it gives the current stage."""

    class Source(models.TextChoices):
        EXTRACT = "extract", _("Dữ liệu đối soát")
        IMPORT = "import", _("Danh sách dân cư")
        VISIT = "visit", _("Xác minh tại nhà")
        EVENT = "event", _("Sự kiện")

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="stage_events")
    from_stage = models.CharField(max_length=10, choices=Stage.choices)
    to_stage = models.CharField(max_length=10, choices=Stage.choices)
    from_level = models.PositiveSmallIntegerField(default=0)
    to_level = models.PositiveSmallIntegerField(default=0)
    at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=Source.choices)
    import_job = models.ForeignKey(
        "imports.ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["at"], name="stageevent_at")]

    def __str__(self) -> str:
        return f"{self.from_stage} → {self.to_stage} ({self.source}, {self.at:%Y-%m-%d})"


class ResidentMove(models.Model):
    """A resident who moved from one commune to another (append-only).

    Written by whoever applied the move: an import by an officer whose jurisdiction covers both
    units (a district or the province), or the command line. Officers of both units see it,
    so the commune the person left knows where they went."""

    class Source(models.TextChoices):
        IMPORT = "import", _("Danh sách dân cư")

    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="moves")
    from_unit = models.ForeignKey(
        "geo.AdminUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("Từ")
    )
    to_unit = models.ForeignKey(
        "geo.AdminUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("Đến")
    )
    at = models.DateTimeField(db_index=True)
    recorded_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who, in words that outlive the account: a user name, or "cli:<os user>".
    actor = models.CharField(max_length=150)
    source = models.CharField(max_length=10, choices=Source.choices)
    import_job = models.ForeignKey(
        "imports.ImportJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.resident_id}: {self.from_unit_id} → {self.to_unit_id} ({self.at:%Y-%m-%d})"
