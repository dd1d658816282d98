"""Importing units from a CSV list (code,name,kind,area_code,supervisor_code)."""

from __future__ import annotations

from typing import TextIO

from django.db import transaction

from civicloop.core.areas.errors import ImportFailed
from civicloop.core.areas.models import Area
from civicloop.core.areas.services import ImportReport, read_csv_rows
from civicloop.core.units.models import Unit, unit_kind_choices

UNIT_COLUMNS = ("code", "name", "kind", "area_code", "supervisor_code")


def units_import_csv(*, stream: TextIO) -> ImportReport:
    """Create or update units; all or nothing, naming each bad line; idempotent."""
    rows = read_csv_rows(stream, UNIT_COLUMNS)
    errors: list[str] = []
    areas = {a.code: a for a in Area.objects.all()}
    codes_in_file = {row["code"] for _, row in rows}
    existing = set(Unit.objects.values_list("code", flat=True))
    seen: set[str] = set()
    for line, row in rows:
        if not row["code"] or not row["name"]:
            errors.append(f"第{line}行：编码和名称不能为空")
        elif row["code"] in seen:
            errors.append(f"第{line}行：编码 {row['code']} 重复")
        elif row["kind"] not in dict(unit_kind_choices()):
            errors.append(f"第{line}行：未知单位类型 {row['kind']!r}")
        elif row["area_code"] not in areas:
            errors.append(f"第{line}行：区域编码 {row['area_code']} 不存在（请先导入区域）")
        elif row["supervisor_code"] and row["supervisor_code"] not in codes_in_file | existing:
            errors.append(f"第{line}行：上级单位 {row['supervisor_code']} 不存在")
        seen.add(row["code"])
    if errors:
        raise ImportFailed(errors)
    report = ImportReport()
    with transaction.atomic():
        units: dict[str, Unit] = {}
        for _, row in rows:
            values = {"name": row["name"], "kind": row["kind"], "area": areas[row["area_code"]]}
            unit = Unit.objects.filter(code=row["code"]).first()
            if unit is None:
                unit = Unit.objects.create(code=row["code"], **values)
                report.created += 1
            elif any(getattr(unit, k) != v for k, v in values.items()):
                Unit.objects.filter(pk=unit.pk).update(**values)
                report.updated += 1
            else:
                report.unchanged += 1
            units[row["code"]] = unit
        for _, row in rows:
            sup_code = row["supervisor_code"]
            supervisor = (
                (units.get(sup_code) or Unit.objects.get(code=sup_code)) if sup_code else None
            )
            unit = units[row["code"]]
            if unit.supervisor_id != (supervisor.pk if supervisor else None):
                Unit.objects.filter(pk=unit.pk).update(supervisor=supervisor)
    return report
