"""The 生命通道 demo: 创业大厦小区 (an old compound) and 万昌大厦 (a high-rise), both in
太平街道, three cameras each with their fire lanes drawn, a property manager login for
each, a fire engine that is exempt, and the registry entries of the demo cars.

Demo thresholds are short (warn after 1 minute, evidence after 3) so that the camera
simulator shows the whole chain within a few minutes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from civicloop.core.accounts.roles import Role
from civicloop.core.areas.models import Area
from civicloop.core.demo import DemoLogin, demo_user_ensure
from civicloop.core.units.models import Unit
from civicloop.firelane.hooks import OFFICER, PROPERTY
from civicloop.firelane.models import Camera, Exemption, Lane, Site

DEMO_WARN_AFTER_S = 60
DEMO_NOTICE_AFTER_S = 180
DEMO_GAP_S = 90
# One lane across the lower four fifths of each camera's picture, where cars stand.
DEMO_LANE = [[0.0, 0.2], [1.0, 0.2], [1.0, 1.0], [0.0, 1.0]]


@dataclass(frozen=True)
class DemoSite:
    code: str
    name: str
    kind: str
    address: str
    area_code: str
    unit_code: str
    unit_name: str
    manager: DemoLogin
    # serial, name, vendor, picture size (the detect resolution Frigate's boxes refer to)
    cameras: tuple[tuple[str, str, str, tuple[int, int]], ...]


DEMO_SITES = (
    DemoSite(
        code="chuangye",
        name="创业大厦小区",
        kind=Site.Kind.COMPOUND,
        address="温岭市太平街道东门社区创业路18号",
        area_code="331081001001",
        unit_code="property-chuangye",
        unit_name="创业大厦小区物业服务中心",
        manager=DemoLogin(
            "property_chuangye",
            "周经理",
            "13800000021",
            Role.HANDLER,
            "property-chuangye",
            description="创业大厦小区物业（本小区生命通道看板）",
        ),
        cameras=(
            ("DS-CY-001", "东门消防通道", Camera.Vendor.HIKVISION, (1600, 1200)),
            ("DS-CY-002", "3幢北侧通道", Camera.Vendor.HIKVISION, (1920, 1080)),
            ("chuangye_gate", "南门通道（Frigate）", Camera.Vendor.FRIGATE, (720, 1160)),
        ),
    ),
    DemoSite(
        code="wanchang",
        name="万昌大厦",
        kind=Site.Kind.HIGHRISE,
        address="温岭市太平街道万昌社区万昌中路500号",
        area_code="331081001003",
        unit_code="property-wanchang",
        unit_name="万昌大厦物业管理处",
        manager=DemoLogin(
            "property_wanchang",
            "蒋主管",
            "13800000022",
            Role.HANDLER,
            "property-wanchang",
            description="万昌大厦物业（本楼生命通道看板）",
        ),
        cameras=(
            ("DS-WC-001", "登高场地", Camera.Vendor.HIKVISION, (650, 580)),
            ("DS-WC-002", "西侧环形通道", Camera.Vendor.HIKVISION, (1920, 1080)),
            ("wanchang_ramp", "地库出口通道（Frigate）", Camera.Vendor.FRIGATE, (650, 580)),
        ),
    ),
)

# The registry entries of the cars in demo_images/ (a 皖 car is from another province:
# its notice is posted on the car instead).
DEMO_VEHICLES = (
    ("浙FEQ635", "02", "王建国", "13900000001"),
    ("浙AL270V", "02", "李秀英", "13900000002"),
    ("浙F359DZ", "02", "张伟", "13900000003"),
)
DEMO_FIRE_ENGINE = "浙J119XF"
# The fire brigade's officer who reviews evidence (`/firelane/review/`).
DEMO_OFFICER = DemoLogin(
    "officer_fire",
    "郑警官",
    "13800000009",
    OFFICER.code,
    "dept-fire",
    description="消防救援大队 执法人员",
)


def demo_sites_build(log: Callable[[str], None]) -> list[Site]:
    """Sites, units, cameras and lanes (idempotent)."""
    fire = Unit.objects.get(code="dept-fire")
    out = []
    with transaction.atomic():
        demo_user_ensure(DEMO_OFFICER)
        for spec in DEMO_SITES:
            area = Area.objects.get(code=spec.area_code)
            unit, _ = Unit.objects.get_or_create(
                code=spec.unit_code,
                defaults={"name": spec.unit_name, "kind": PROPERTY.code, "area": area},
            )
            demo_user_ensure(spec.manager)
            site, created = Site.objects.get_or_create(
                code=spec.code,
                defaults={
                    "name": spec.name,
                    "kind": spec.kind,
                    "address": spec.address,
                    "area": area,
                    "unit": unit,
                    "enforcement_unit": fire,
                    "warn_after_s": DEMO_WARN_AFTER_S,
                    "notice_after_s": DEMO_NOTICE_AFTER_S,
                    "gap_s": DEMO_GAP_S,
                },
            )
            for serial, name, vendor, (width, height) in spec.cameras:
                camera, _ = Camera.objects.get_or_create(
                    serial=serial,
                    defaults={
                        "site": site,
                        "name": name,
                        "vendor": vendor,
                        "image_width": width,
                        "image_height": height,
                        "ip_allowlist": "127.0.0.1 ::1",
                        "heartbeat_interval_s": 600,
                    },
                )
                if not camera.lanes.exists():
                    Lane.objects.create(camera=camera, name=name, polygon=DEMO_LANE)
            out.append(site)
            log(f"firelane: {site.name} {'created' if created else 'present'}")
        Exemption.objects.get_or_create(
            kind=Exemption.Kind.FIRE_ENGINE, plate=DEMO_FIRE_ENGINE, defaults={"note": "温岭消防"}
        )
    return out


def demo_vehicles_load(log: Callable[[str], None]) -> None:
    """The demo cars' owners in the local registry mirror."""
    from civicloop.firelane.vehicles.mirror import mirror_records_put

    n = mirror_records_put(records=list(DEMO_VEHICLES))
    log(f"firelane: {n} demo vehicles in the registry mirror")


def demo_firelane_load(log: Callable[[str], None]) -> list[DemoLogin]:
    """Sites, cameras, lanes, the officer and the property managers, the demo vehicles.
    Returns the demo logins."""
    demo_sites_build(log)
    demo_vehicles_load(log)
    return [DEMO_OFFICER, *(site.manager for site in DEMO_SITES)]
