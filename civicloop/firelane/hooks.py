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
)


def _is_officer(user: Any) -> bool:
    from civicloop.firelane.access import firelane_scope_for

    return firelane_scope_for(user=user).can_review


def _sees_dashboard(user: Any) -> bool:
    from civicloop.firelane.access import firelane_scope_for

    return firelane_scope_for(user=user).can_view


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
