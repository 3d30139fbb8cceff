from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    PROVINCE = "province", _("Tỉnh/Thành phố")
    DISTRICT = "district", _("Quận/Huyện")
    COMMUNE = "commune", _("Xã/Phường")
    HAMLET = "hamlet", _("Ấp/Khu phố")


class Edition(models.IntegerChoices):
    E2023 = 2023, _("2023 (63 tỉnh, 3 cấp)")
    E2025 = 2025, _("2025 (34 tỉnh, 2 cấp)")


class AdminUnit(models.Model):
    """A unit of one edition. Codes repeat across editions, so the key is (edition, code).

    `path` is the materialised path of codes ("72/703/25459/") so that a subtree is one
    `path LIKE '72/703/%'` query, never a loop over children.
    """

    edition = models.PositiveSmallIntegerField(choices=Edition.choices)
    code = models.CharField(max_length=24)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=30, blank=True)  # Xã, Phường, Thị trấn, Ấp, Khu phố…
    level = models.CharField(max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=128, db_index=True)
    depth = models.PositiveSmallIntegerField()
    province_code = models.CharField(max_length=3)
    name_key = models.CharField(max_length=120)  # folded name, for matching hamlets in files
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    area_km2 = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["edition", "code"], name="unit_edition_code"),
            models.UniqueConstraint(
                fields=["parent", "name_key"],
                condition=models.Q(level="hamlet"),
                name="hamlet_name_in_commune",
            ),
        ]
        ordering = ["path"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_hamlet(self) -> bool:
        return self.level == Level.HAMLET
