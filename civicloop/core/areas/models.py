"""The four-level area tree of a city: 市 > 镇/街道 > 村/社区 > 网格."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaLevel(models.IntegerChoices):
    CITY = 1, _("市")
    TOWN = 2, _("镇/街道")
    VILLAGE = 3, _("村/社区")
    GRID = 4, _("网格")


class AreaKind(models.TextChoices):
    CITY = "city", _("市")
    STREET = "street", _("街道")
    TOWN = "town", _("镇")
    COMMUNITY = "community", _("社区")
    VILLAGE = "village", _("村")
    GRID = "grid", _("网格")


LEVEL_OF_KIND = {
    AreaKind.CITY: AreaLevel.CITY,
    AreaKind.STREET: AreaLevel.TOWN,
    AreaKind.TOWN: AreaLevel.TOWN,
    AreaKind.COMMUNITY: AreaLevel.VILLAGE,
    AreaKind.VILLAGE: AreaLevel.VILLAGE,
    AreaKind.GRID: AreaLevel.GRID,
}


class Area(models.Model):
    """A node of the area tree. `path` is the chain of codes from the root
    ("331081/331081001/...") so a subtree is one indexed prefix query."""

    code = models.CharField(_("区划代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=AreaKind.choices)
    level = models.PositiveSmallIntegerField(_("层级"), choices=AreaLevel.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False)
    centroid_lat = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    centroid_lng = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        verbose_name = _("区域")
        verbose_name_plural = _("区域")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.level = LEVEL_OF_KIND[AreaKind(self.kind)]
        self.path = (
            f"{self.parent.path}/{self.code}" if self.parent_id and self.parent else self.code
        )
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def subtree_q(self, prefix: str = "") -> models.Q:
        """A Q matching this area and everything below it, on `<prefix>path`."""
        field = f"{prefix}path"
        return models.Q(**{field: self.path}) | models.Q(
            **{f"{field}__startswith": self.path + "/"}
        )

    def ancestors(self) -> list[Area]:
        codes = self.path.split("/")[:-1]
        by_code = {a.code: a for a in Area.objects.filter(code__in=codes)}
        return [by_code[c] for c in codes if c in by_code]
