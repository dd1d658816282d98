"""What the 生命通道 module registers with core: its channel, its workflow template,
its pages in the shell's top bar and its demo data."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from civicloop.core import registry
from civicloop.core.registry import Channel, NavItem
from civicloop.firelane.workflow import FIRELANE_FLOW

FIRELANE = Channel(
    code="firelane",
    name=_("生命通道"),
    number_prefix="XF",
    workflow=FIRELANE_FLOW.code,
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
        or bool(standing.unit_ids_of_kind("property"))
    )


def register() -> None:
    registry.register_workflow(FIRELANE_FLOW)
    registry.register_channel(FIRELANE)
    registry.register_event_label("firelane_warning", _("短信提醒车主"))
    registry.register_event_label("firelane_evidence", _("证据包"))
    registry.register_event_label("firelane_notice", _("告知单"))
    registry.register_nav_item(NavItem(_("执法审核"), "/firelane/review/", _is_officer, order=30))
    registry.register_nav_item(
        NavItem(_("生命通道"), "/firelane/dashboard/", _sees_dashboard, order=31)
    )

    from civicloop.firelane.demo import demo_firelane_load

    registry.register_demo_loader("firelane", demo_firelane_load)
    registry.register_background("firelane MQTT intake", _mqtt_start)
    registry.register_background("firelane camera simulator", _simulator_start)
    registry.register_background("fake payment provider", _payment_fake_start)


def _mqtt_start() -> Any:
    from django.conf import settings

    from civicloop.firelane.intake.mqtt import mqtt_consumer_start

    return mqtt_consumer_start(url=settings.MQTT_URL) if settings.MQTT_URL else None


def _simulator_start() -> Any:
    from civicloop.firelane.simulator import simulator_start

    return simulator_start()


def _payment_fake_start() -> Any:
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
