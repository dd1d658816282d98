"""Importing the area tree and the units from CSV; the demo city."""

from __future__ import annotations

import io
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from civicloop.core.accounts.models import User
from civicloop.core.areas.errors import ImportFailed
from civicloop.core.areas.models import Area, AreaLevel
from civicloop.core.areas.services import (
    area_from_address,
    area_nearest,
    areas_import_csv,
)
from civicloop.core.demo import demo_city_build
from civicloop.core.units.models import Membership, Unit
from civicloop.core.units.services import units_import_csv

pytestmark = pytest.mark.django_db

STREETS = {"太平街道", "城东街道", "城西街道", "城北街道", "横峰街道"}
TOWNS = {
    "泽国镇",
    "大溪镇",
    "松门镇",
    "箬横镇",
    "新河镇",
    "石塘镇",
    "滨海镇",
    "温峤镇",
    "城南镇",
    "石桥头镇",
    "坞根镇",
}


def test_demo_city_is_wenling_in_four_levels() -> None:
    demo_city_build()
    city = Area.objects.get(level=AreaLevel.CITY)
    assert city.name == "温岭市"
    towns = set(Area.objects.filter(level=AreaLevel.TOWN).values_list("name", flat=True))
    assert towns == STREETS | TOWNS
    for town in Area.objects.filter(level=AreaLevel.TOWN):
        villages = town.children.all()
        assert villages.count() >= 3
        assert all(v.children.filter(level=AreaLevel.GRID).exists() for v in villages)
    departments = set(Unit.objects.filter(kind="department").values_list("name", flat=True))
    for needed in (
        "消防救援大队",
        "住房和城乡建设局",
        "综合行政执法局",
        "市场监督管理局",
        "交通运输局",
        "应急管理局",
        "卫生健康局",
        "教育局",
        "商务局",
        "人大常委会代表工作委员会",
        "政协",
    ):
        assert any(needed in name for name in departments), needed


def test_load_demo_twice_changes_nothing() -> None:
    out = StringIO()
    call_command("load_demo", stdout=out)
    counts = (
        Area.objects.count(),
        Unit.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
    )
    call_command("load_demo", stdout=StringIO())
    assert counts == (
        Area.objects.count(),
        Unit.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
    )
    assert "handler_zeguo" in out.getvalue() and "Wenling-demo-2026" in out.getvalue()


def test_import_refuses_a_bad_file_whole_and_names_the_lines() -> None:
    bad = io.StringIO(
        "code,name,kind,parent_code,lat,lng\n"
        "331081,温岭市,city,,,\n"
        "X1,某镇,planet,331081,,\n"
        "X2,某村,village,NOPE,,\n"
    )
    with pytest.raises(ImportFailed) as refused:
        areas_import_csv(stream=bad)
    assert any("第3行" in e for e in refused.value.errors)
    assert any("第4行" in e for e in refused.value.errors)
    assert Area.objects.count() == 0


def test_import_command_reads_a_csv_and_reports(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "areas.csv"
    path.write_text(
        "code,name,kind,parent_code,lat,lng\n"
        "331081100001,泽国社区,community,331081100,28.5,121.3\n"
        "331081100,泽国镇,town,331081,,\n"
        "331081,温岭市,city,,,\n",
        encoding="utf-8",
    )
    out = StringIO()
    call_command("import_areas", str(path), stdout=out)
    assert "created 3" in out.getvalue()
    assert Area.objects.get(code="331081100001").path == "331081/331081100/331081100001"
    units = tmp_path / "units.csv"
    units.write_text(
        "code,name,kind,area_code,supervisor_code\n"
        "town-z,泽国镇人民政府,town_office,331081100,sup\n"
        "sup,督查室,department,331081,\n",
        encoding="utf-8",
    )
    call_command("import_units", str(units), stdout=StringIO())
    assert Unit.objects.get(code="town-z").supervisor == Unit.objects.get(code="sup")
    with pytest.raises(CommandError):
        call_command("import_areas", str(tmp_path / "missing.csv"))
    bad = tmp_path / "bad_units.csv"
    bad.write_text(
        "code,name,kind,area_code,supervisor_code\nx,某单位,spaceship,331081,\n", encoding="utf-8"
    )
    with pytest.raises(CommandError, match="第2行"):
        call_command("import_units", str(bad))


def test_units_import_names_unknown_areas() -> None:
    with pytest.raises(ImportFailed) as refused:
        units_import_csv(
            stream=io.StringIO(
                "code,name,kind,area_code,supervisor_code\nu,某单位,department,999,\n"
            )
        )
    assert "999" in refused.value.errors[0]


def test_locating_an_area_by_point_or_address() -> None:
    demo_city_build()
    near = area_nearest(lat=28.5130, lng=121.3650)
    assert near is not None and (near.name == "泽国镇" or near.parent.name == "泽国镇")
    found = area_from_address(address="浙江省温岭市泽国镇牧屿村村口")
    assert found is not None and found.name == "牧屿村"
    assert area_from_address(address="北京市朝阳区") is None


def test_a_downtown_point_routes_to_its_town_never_to_the_city() -> None:
    """Given the city, whose centroid lies downtown, when a point in downtown 太平街道
    nearer the city's centroid than the town's is located, then it is 太平街道."""
    demo_city_build()
    found = area_nearest(lat=28.371561, lng=121.381234)
    assert found is not None and found.name == "太平街道"


@pytest.mark.parametrize(("lat", "lng"), [(0.0, 0.0), (-33.8688, 151.2093), (30.25, 120.17)])
def test_a_point_outside_the_city_has_no_nearest_area(
    settings: Any, lat: float, lng: float
) -> None:
    """Given the city's towns, when a point is far from all of them (GPS 0,0, Sydney,
    Hangzhou), then no area is found rather than a border town."""
    demo_city_build()
    settings.AREA_ROUTING_MAX_KM = 12
    assert area_nearest(lat=lat, lng=lng) is None
