"""What the 政协委员工作室 module declares to core (the module contract, `MODULE`): the
协商在线 channel (Open311 `consultation`, attribute `studio`), the unit's part of a
consultation, the member role, the studio unit kind, pages, settings and demo data.

Read while settings load: nothing here imports models at import time."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import (
    Channel,
    Intake,
    ModuleSpec,
    NavItem,
    Open311Attribute,
    Publication,
    RoleSpec,
    Setting,
    UnitKindSpec,
)
from civicloop.notify.templates import SmsTemplate

CPPCC_SECTION = _("政协")
MEMBER = RoleSpec("cppcc_member", _("政协委员"))
STUDIO = UnitKindSpec("studio", _("委员工作室"))
# 政协温岭市委员会 (core's unit list): the office above every studio.
CPPCC_OFFICE_UNIT = "dept-cppcc"

CONSULTATION = Channel(
    code="consultation",
    name=_("协商在线"),
    number_prefix="XS",
    workflow="consultation",
    description=_("群众选择委员工作室或委员，一对一提出问题或建议，委员答复、约谈或转交单位办理。"),
    intakes=frozenset({Intake.MODULE, Intake.OPEN311}),
    open311_group=_("政协委员"),
    keywords=("协商在线", "政协委员", "委员工作室"),
    publication=Publication.PUBLIC_PROJECTION,
    owner_unit_kinds=("studio",),
    person_key="member_name",
    person_label=_("委员"),
    open311_attributes=(Open311Attribute("studio", _("委员工作室编号（/api/v1/studios 的 id）")),),
    open311_prepare="civicloop.studios.services.consultation_draft_prepare",
    status_notes_while_open=True,
    staff_page="/studios/cases/{number}/",
    staff_page_label=_("在协商对话中答复"),
)

REFERRAL = Channel(
    code="consultation_referral",
    name=_("协商在线转办"),
    number_prefix="XZ",
    workflow="consultation_referral",
    description=_("委员把群众反映的事项转交单位办理，结果回到协商对话中。"),
    intakes=frozenset({Intake.MODULE}),
    publication=Publication.NOTHING,
    owner_unit_kinds=("department", "town_office"),
    staff_page="/studios/referrals/{number}/",
    staff_page_label=_("提交办理结果"),
)


def _member(user: Any) -> bool:
    """A CPPCC member: the role in a studio unit, read from the standing every page has
    already loaded (the top bar asks on every page; no query of its own)."""
    from civicloop.core.units.selectors import user_standing

    return any(MEMBER.code in roles for roles in user_standing(user).unit_roles.values())


def _office(user: Any) -> bool:
    from civicloop.studios.selectors import is_cppcc_office

    return is_cppcc_office(user=user)


def _member_or_office(user: Any) -> bool:
    return _member(user) or _office(user)


MODULE = ModuleSpec(
    name="studios",
    label=_("委员工作室"),
    app="civicloop.studios",
    description=_("政协委员工作室、协商在线、社情民意信息和民生议事堂"),
    channels=(CONSULTATION, REFERRAL),
    workflows=(
        "civicloop.studios.workflow.CONSULTATION_FLOW",
        "civicloop.studios.workflow.REFERRAL_FLOW",
    ),
    urls="civicloop.studios.urls",
    api_router="civicloop.studios.api.router",
    settings=(
        Setting("STUDIO_REPLY_DAYS", 3, "int", doc="Working days for a member's first reply."),
        Setting("STUDIO_REPORT_MAX_CHARS", 1500, "int", doc="Length limit of a report."),
        Setting("STUDIO_REFERRAL_DAYS", 10, "int", doc="Working days a unit has to answer."),
    ),
    roles=(MEMBER,),
    unit_kinds=(STUDIO,),
    nav_items=(
        NavItem(_("委员工作室"), "/studios/", lambda user: True, order=60, section=CPPCC_SECTION),
        NavItem(
            _("协商信箱"), "/studios/inbox/", _member_or_office, order=61, section=CPPCC_SECTION
        ),
        NavItem(
            _("社情民意"), "/studios/reports/", _member_or_office, order=62, section=CPPCC_SECTION
        ),
    ),
    event_labels=(("consultation_message", _("协商留言")),),
    sms_templates=(
        (
            "consultation_reply",
            # The link's domain and path are fixed in the filed text; only the token varies.
            SmsTemplate(
                code="SMS_490002002",
                text="您的协商${number}有新回复，请查看：{site}/studios/t/${token}/",
            ),
        ),
    ),
    demo_loader="civicloop.studios.demo.demo_studios_load",
)
