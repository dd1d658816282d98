"""Importing the area tree from a CSV list (code,name,kind,parent_code,lat,lng)."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TextIO

from django.conf import settings
from django.db import transaction

from civicloop.core.areas.errors import ImportFailed
from civicloop.core.areas.models import LEVEL_OF_KIND, Area, AreaKind, AreaLevel

AREA_COLUMNS = ("code", "name", "kind", "parent_code")
# A point farther than this from every town's centroid is outside the city: the default
# of settings.AREA_ROUTING_MAX_KM, generous for towns a few kilometres across. Centroids
# cannot tell a point just across the city's border from one inside it; boundaries can.
AREA_ROUTING_MAX_KM = 12.0
EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)


def read_csv_rows(stream: TextIO, required: Iterable[str]) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(stream)
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportFailed([f"缺少列：{', '.join(missing)}"])
    return [
        (line, {k: (v or "").strip() for k, v in row.items() if k})
        for line, row in enumerate(reader, start=2)
    ]


def _decimal(value: str) -> Decimal | None:
    if not value:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ValueError(f"不是数字：{value}") from None


def areas_import_csv(*, stream: TextIO) -> ImportReport:
    """Create or update areas from the CSV. Parents may appear after children in the file.

    All or nothing: any bad line refuses the whole file, naming each bad line. Running
    the same file twice changes nothing."""
    rows = read_csv_rows(stream, AREA_COLUMNS)
    errors: list[str] = []
    by_code: dict[str, dict[str, str]] = {}
    for line, row in rows:
        if not row["code"] or not row["name"]:
            errors.append(f"第{line}行：编码和名称不能为空")
            continue
        if row["kind"] not in AreaKind.values:
            errors.append(
                f"第{line}行：未知类型 {row['kind']!r}（可用：{', '.join(AreaKind.values)}）"
            )
            continue
        if row["code"] in by_code:
            errors.append(f"第{line}行：编码 {row['code']} 重复")
            continue
        try:
            _decimal(row.get("lat", ""))
            _decimal(row.get("lng", ""))
        except ValueError as exc:
            errors.append(f"第{line}行：{exc}")
            continue
        row["_line"] = str(line)
        by_code[row["code"]] = row
    existing_codes = set(Area.objects.values_list("code", flat=True))
    for row in by_code.values():
        parent_ref = row["parent_code"]
        if parent_ref and parent_ref not in by_code and parent_ref not in existing_codes:
            errors.append(f"第{row['_line']}行：上级编码 {parent_ref} 不存在")
        elif parent_ref and parent_ref in by_code:
            parent_level = LEVEL_OF_KIND[AreaKind(by_code[parent_ref]["kind"])]
            if parent_level >= LEVEL_OF_KIND[AreaKind(row["kind"])]:
                errors.append(f"第{row['_line']}行：上级 {parent_ref} 的层级不高于本级")
    if errors:
        raise ImportFailed(errors)

    report = ImportReport()

    # Insert parents before children: sort by depth in the file's own tree.
    def depth(code: str) -> int:
        d, seen = 0, set()
        while code in by_code and by_code[code]["parent_code"] and code not in seen:
            seen.add(code)
            code = by_code[code]["parent_code"]
            d += 1
        return d

    with transaction.atomic():
        cache: dict[str, Area] = {}
        for code in sorted(by_code, key=depth):
            row = by_code[code]
            parent_code = row["parent_code"]
            parent: Area | None = None
            if parent_code:
                parent = cache.get(parent_code) or Area.objects.get(code=parent_code)
            values = {
                "name": row["name"],
                "kind": row["kind"],
                "parent": parent,
                "centroid_lat": _decimal(row.get("lat", "")),
                "centroid_lng": _decimal(row.get("lng", "")),
            }
            area = Area.objects.filter(code=code).first()
            if area is None:
                area = Area(code=code, **values)
                area.save()
                report.created += 1
            elif any(getattr(area, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(area, k, v)
                area.save()
                report.updated += 1
            else:
                report.unchanged += 1
            cache[code] = area
        if report.updated:
            _repath_all()
    return report


def _repath_all() -> None:
    """Recompute every materialised path top-down after a move in the tree."""
    for area in Area.objects.order_by("level", "code"):
        area.save()


def area_nearest(*, lat: float, lng: float) -> Area | None:
    """The town-level area (镇/街道) whose centroid is nearest to the point, or None when
    every town's centroid is farther than `settings.AREA_ROUTING_MAX_KM`: the point is
    outside the city (a phone's GPS answering 0,0, another city), not in a border town.

    Never the city itself: every point of the city lies in one of its towns, and the
    city's centroid sits downtown, nearer than the centroid of the town it lies in.
    Nor a village: areas carry centroids, not boundaries, and a village's centroid near
    a town's edge would pull a point across it; the town dispatches further down.
    A boundary import would replace this approximation."""
    reach_km = float(getattr(settings, "AREA_ROUTING_MAX_KM", AREA_ROUTING_MAX_KM))
    best: tuple[float, Area] | None = None
    for area in Area.objects.filter(level=AreaLevel.TOWN, centroid_lat__isnull=False):
        assert area.centroid_lat is not None and area.centroid_lng is not None
        km = _distance_km(lat, lng, float(area.centroid_lat), float(area.centroid_lng))
        if km <= reach_km and (best is None or km < best[0]):
            best = (km, area)
    return best[1] if best else None


def _distance_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine), good to metres at a city's scale."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def area_from_address(*, address: str) -> Area | None:
    """The most specific area whose name appears in a free-text address."""
    address = address.strip()
    if not address:
        return None
    matches = [a for a in Area.objects.filter(level__gte=2) if a.name and a.name in address]
    if not matches:
        return None
    return max(matches, key=lambda a: (a.level, len(a.name)))
