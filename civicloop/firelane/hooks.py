"""What the 生命通道 module declares to core (the module contract, `MODULE`).

Read while settings load: nothing here imports models at import time."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import (
    Background,
    Channel,
    CockpitTile,
    ModuleSpec,
    NavItem,
    PeriodicTask,
    RoleSpec,
    Setting,
    UnitKindSpec,
)
from civicloop.notify.templates import SmsTemplate

# The top bar shows the links of the same section under one menu.
NAV_SECTION = _("生命通道")

# The role of the fire brigade's officers who review evidence and issue notices, and the
# kind of unit that manages a site (a property company).
OFFICER = RoleSpec("officer", _("执法人员"))
PROPERTY = UnitKindSpec("property", _("物业/管理单位"))

FIRELANE = Channel(
    code="firelane",
    name=_("生命通道"),
    number_prefix="XF",
    workflow="firelane",
    description=_("消防车通道占用的非现场执法：摄像机发现、短信提醒、证据审核、告知单和网上缴款。"),
    keywords=("生命通道", "消防车通道", "非现场执法"),
    owner_unit_kinds=("department",),
    staff_page="/firelane/review/{number}/",
    staff_page_label=_("在执法审核页查看证据并办理"),
)


# The top bar asks on every page: these read only the user's standing (already loaded
# for the page), never the sites. The pages themselves check the full scope (access.py).
def _standing(user: Any) -> Any:
    from civicloop.core.units.selectors import user_standing

    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user_standing(user)


def _is_officer(user: Any) -> bool:
    from civicloop.firelane.access import REVIEW_ROLES

    standing = _standing(user)
    if standing is None:
        return False
    return standing.is_admin or any(
        roles & REVIEW_ROLES and standing.unit_info.get(pk, ("", ""))[1] == "department"
        for pk, roles in standing.unit_roles.items()
    )


def _sees_dashboard(user: Any) -> bool:
    standing = _standing(user)
    if standing is None:
        return False
    return (
        _is_officer(user)
        or bool(standing.area_paths)
        or bool(standing.unit_ids_of_kind(PROPERTY.code))
    )


SETTINGS = (
    # Camera intake: ISAPI push, Frigate over MQTT, the JSON API.
    Setting("MQTT_URL", "", doc="MQTT broker of the Frigate consumer; empty: no consumer."),
    Setting("FRIGATE_EVENTS_TOPIC", "frigate/events"),
    Setting(
        "FRIGATE_API_URL", "", doc="Frigate's HTTP API (snapshots); empty: store without images."
    ),
    Setting("FRIGATE_SNAPSHOT_TIMEOUT_S", 2.0, "float"),
    # Frigate's LPR reads plates on cars and motorcycles; dedicated LPR cameras with a
    # plate-detecting model track `license_plate` objects.
    Setting("FRIGATE_VEHICLE_LABELS", ["car", "motorcycle", "license_plate"], "list"),
    # Each consumer has a fixed client id with a persistent session: the broker keeps its
    # QoS 1 messages while it is down and hands them over when it is back (restart it:
    # systemd Restart=always). Consumers split the events through the MQTT 5 shared
    # subscription $share/<group>/<topic>; each is `<client id>-<instance>-<n>`, so every
    # process needs its own --instance (the host name by default). Empty group: one
    # consumer on the plain topic.
    Setting("FIRELANE_MQTT_CLIENT_ID", "civicloop-firelane-intake"),
    Setting("FIRELANE_MQTT_GROUP", "civicloop"),
    Setting("FIRELANE_MQTT_CONSUMERS", 1, "int", doc="Consumers in one firelane_mqtt process."),
    # The web server runs one consumer beside itself only when told to (not in production,
    # where `manage.py firelane_mqtt` runs under its own service).
    Setting("FIRELANE_MQTT_IN_WEB", True, "bool", production_default=False),
    # /healthz/ready fails when a consumer's oldest queued message has waited this long,
    # or no consumer has reported for FIRELANE_MQTT_READY_SILENT_S while MQTT_URL is set.
    Setting("FIRELANE_MQTT_READY_MAX_LAG_S", 30.0, "float"),
    Setting("FIRELANE_MQTT_READY_SILENT_S", 60.0, "float"),
    Setting("FIRELANE_MQTT_BATCH", 500, "int"),
    Setting("FIRELANE_INTAKE_MAX_BYTES", 4 * 1024 * 1024, "int"),
    Setting("FIRELANE_MAX_FUTURE_S", 300, "int"),
    # A stay older than two days can no longer be enforced.
    Setting("FIRELANE_MAX_LATE_S", 2 * 24 * 3600, "int"),
    Setting("FIRELANE_CLOCK_SKEW_S", 180, "int"),
    # A camera's online mark is written at most this often (a hot row otherwise).
    Setting("FIRELANE_LAST_SEEN_EVERY_S", 10, "int"),
    # Payments: "fake" is the loopback Alipay stand-in; production takes Alipay only.
    Setting(
        "PAYMENT_PROVIDER", "fake", production_default="alipay", production_choices=("alipay",)
    ),
    Setting("ALIPAY_GATEWAY", "https://openapi.alipay.com/gateway.do"),
    Setting("ALIPAY_APP_ID", "", required_in_production=True),
    Setting("ALIPAY_APP_PRIVATE_KEY", "", required_in_production=True),
    Setting("ALIPAY_PUBLIC_KEY", "", required_in_production=True),
    Setting("ALIPAY_TIMEOUT_SECONDS", 10.0, "float"),
    Setting("PAYMENT_FAKE_URL", "http://127.0.0.1:8765"),
    Setting(
        "PAYMENT_FAKE_KEYS_FILE",
        lambda s: str(s["VAR_DIR"] / "payment-fake-keys.json"),
        doc="Development keys of the fake provider.",
    ),
    # Vehicle registry: the local mirror first, then the provincial interface when set.
    Setting("VEHICLE_REGISTRY_URL", ""),
    Setting("VEHICLE_REGISTRY_APP_KEY", ""),
    Setting("VEHICLE_REGISTRY_SECRET", ""),
    Setting("VEHICLE_REGISTRY_CONNECT_TIMEOUT", 2.0, "float"),
    Setting("VEHICLE_REGISTRY_READ_TIMEOUT", 5.0, "float"),
    Setting("VEHICLE_REGISTRY_RETRIES", 2, "int"),
    Setting("VEHICLE_REGISTRY_BACKOFF_SECONDS", 0.2, "float"),
    Setting("VEHICLE_REGISTRY_BREAKER_FAILURES", 5, "int"),
    Setting("VEHICLE_REGISTRY_BREAKER_RESET_SECONDS", 60.0, "float"),
    # The fine an approval proposes, in fen (消防法 第六十条: at most ¥500 for a person).
    Setting("FIRELANE_FINE_DEFAULT_FEN", 20000, "int"),
    Setting("FIRELANE_LINK_TTL_DAYS", 30, "int"),
    # Days a sighting that led to no case (its pictures, its stay) is kept; a case's
    # evidence is kept as long as the case.
    Setting("FIRELANE_SIGHTING_RETENTION_DAYS", 30, "int"),
    # The penalty procedure (行政处罚法): who issues the notice, decision and receipt (shown
    # on each, and on the expired-link page), the statement period in working days
    # (第四十五条, 第八十五条) and the payment period in days (第六十七条).
    Setting("FIRELANE_AUTHORITY_NAME", "温岭市消防救援大队", doc="The issuing authority."),
    Setting(
        "FIRELANE_AUTHORITY_SEAL",
        "温岭市消防救援大队（印）",
        doc="The seal text printed on decisions and receipts.",
    ),
    # 12119: the national fire-hazard hotline, until the deployment sets the brigade's own.
    Setting("FIRELANE_AUTHORITY_PHONE", "12119", doc="The contact phone on every notice."),
    Setting("FIRELANE_STATEMENT_DAYS", 3, "int"),
    Setting("FIRELANE_PAYMENT_DAYS", 15, "int"),
    # Fire-lane SMS go out under the fire service's own sign, not the 民意 one.
    Setting("FIRELANE_SMS_SIGN", "温岭消防", doc="The SMS sign of the fire-lane templates."),
    # The fixed link prefix filed with the notice SMS template (the token follows it).
    Setting("SMS_LINK_PREFIX", lambda s: f"{s['SITE_URL']}/n/"),
    # The demo's stand-ins (`make run`); never in production.
    Setting("FIRELANE_SIMULATOR", False, "bool", production_value=False),
    Setting("PAYMENT_FAKE_SERVE", False, "bool", production_value=False),
)

MODULE = ModuleSpec(
    name="firelane",
    label=_("生命通道"),
    app="civicloop.firelane",
    description=_("消防车通道占用的非现场执法"),
    channels=(FIRELANE,),
    workflows=("civicloop.firelane.workflow.FIRELANE_FLOW",),
    urls="civicloop.firelane.urls",
    api_router="civicloop.firelane.api.router",
    api_prefix="firelane",
    periodic_tasks=(
        PeriodicTask("firelane-sweep", "civicloop.firelane.tasks.firelane_sweep", 15.0),
        PeriodicTask("firelane-retention", "civicloop.firelane.tasks.firelane_retention", 3600.0),
    ),
    settings=SETTINGS,
    roles=(OFFICER,),
    unit_kinds=(PROPERTY,),
    nav_items=(
        NavItem(_("执法审核"), "/firelane/review/", _is_officer, order=30, section=NAV_SECTION),
        NavItem(
            _("生命通道"), "/firelane/dashboard/", _sees_dashboard, order=31, section=NAV_SECTION
        ),
    ),
    cockpit_tiles=(
        CockpitTile("firelane", _("生命通道"), "civicloop.firelane.dashboard.cockpit_figures"),
    ),
    sms_templates=(
        (
            "firelane_warning",
            SmsTemplate(
                code="SMS_490001005",
                text="车牌${plate}的车辆停放在${site}消防车通道上，请立即驶离。",
                sign_setting="FIRELANE_SMS_SIGN",
            ),
        ),
        (
            "firelane_notice",
            SmsTemplate(
                code="SMS_490001006",
                text=(
                    "车牌${plate}的车辆违规停放在${site}的消防车通道上已${minutes}分钟，"
                    "执法人员已开具告知单，详见{link_prefix}${token}"
                ),
                sign_setting="FIRELANE_SMS_SIGN",
            ),
        ),
        (
            # The decision (处罚决定书) is served on the owner's page; this tells them.
            "firelane_decision",
            SmsTemplate(
                code="SMS_490001007",
                text=(
                    "车牌${plate}消防车通道违法停车的处罚决定书已作出，请于${due}前缴纳罚款，"
                    "详见{link_prefix}${token}"
                ),
                sign_setting="FIRELANE_SMS_SIGN",
            ),
        ),
    ),
    event_labels=(
        ("firelane_warning", _("短信提醒车主")),
        ("firelane_evidence", _("证据包")),
        ("firelane_notice", _("告知单")),
    ),
    demo_loader="civicloop.firelane.demo.demo_firelane_load",
    readiness=("civicloop.firelane.intake.mqtt.mqtt_readiness",),
    background=(
        Background("firelane MQTT intake", "civicloop.firelane.hooks.mqtt_start"),
        Background("firelane camera simulator", "civicloop.firelane.simulator.simulator_start"),
        Background("fake payment provider", "civicloop.firelane.hooks.payment_fake_start"),
    ),
)


def mqtt_start() -> Any:
    """One consumer beside the web server, when MQTT_URL is set and FIRELANE_MQTT_IN_WEB."""
    from django.conf import settings

    from civicloop.firelane.intake.mqtt import mqtt_consumer_start

    if not settings.MQTT_URL or not settings.FIRELANE_MQTT_IN_WEB:
        return None
    return mqtt_consumer_start(url=settings.MQTT_URL, instance="web")


def payment_fake_start() -> Any:
    """The demo's stand-in for Alipay, served beside the platform (PAYMENT_FAKE_SERVE)."""
    import urllib.parse

    from django.conf import settings

    from civicloop.firelane.payments.fake import FakeAlipay, fake_keys_load_or_create

    if settings.PAYMENT_PROVIDER != "fake" or not settings.PAYMENT_FAKE_SERVE:
        return None
    split = urllib.parse.urlsplit(settings.PAYMENT_FAKE_URL)
    keys = fake_keys_load_or_create(path=settings.PAYMENT_FAKE_KEYS_FILE)
    fake = FakeAlipay(
        app_id=keys.app_id,
        app_public_key=keys.app_public_key,
        private_key=keys.fake_private_key,
        host=split.hostname or "127.0.0.1",
        port=split.port or 8765,
    )
    fake.start()
    return fake
