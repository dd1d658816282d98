"""Where an opinion should go, suggested from its category (the deputy decides).

A 镇级 opinion goes to the town office of the case's area; a 市级 one to the city
department that owns the category. Categories without a department (其他) suggest the
town office for both grades."""

from __future__ import annotations

from dataclasses import dataclass

from civicloop.core.cases.models import Case, Grade
from civicloop.core.units.models import Unit
from civicloop.core.units.selectors import unit_for_area

# category -> unit code of the responsible city department (温岭市 机构设置).
CATEGORY_DEPARTMENTS: dict[str, str] = {
    "road": "dept-transport",  # 交通运输局
    "housing": "dept-housing",  # 住房和城乡建设局
    "environment": "dept-enforcement",  # 综合行政执法局 (市容环卫)
    "safety": "dept-emergency",  # 应急管理局
    "education": "dept-education",  # 教育局
    "health": "dept-health",  # 卫生健康局
    "market": "dept-market",  # 市场监督管理局
}


@dataclass(frozen=True)
class RoutingSuggestion:
    """The suggested receiving unit for each grade, and the grade to start with."""

    town: Unit | None
    city: Unit | None
    grade: str

    def unit_for(self, grade: str) -> Unit | None:
        return self.city if grade == Grade.CITY else self.town


def routing_suggest(*, case: Case) -> RoutingSuggestion:
    """The town office of the case's area for 镇级, the category's department for 市级
    (the town office again when the category has none). Two small queries."""
    area = case.area if case.area_id else (case.owner_unit.area if case.owner_unit else None)
    town = unit_for_area(area=area, kinds=("town_office",))
    code = CATEGORY_DEPARTMENTS.get(case.category)
    city = Unit.objects.filter(code=code, is_active=True).first() if code else None
    return RoutingSuggestion(
        town=town,
        city=city or town,
        grade=Grade.TOWN if town is not None else Grade.CITY,
    )
