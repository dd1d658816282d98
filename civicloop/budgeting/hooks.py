"""What the 参与式预算 module declares to core (the module contract, `MODULE`).

A process (征集 → 初审 → 抽样 → 恳谈/审议 → 投票 → 人代会审议 → 执行监督 → 公开) has its
own pages and records; it opens no core case channel (projects are screened on the
module's page, not worked as cases).

Read while settings load: nothing here imports models at import time."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import ModuleSpec, NavItem, RoleSpec, Setting
from civicloop.notify.templates import SmsTemplate

# The top bar shows the links of the same section under one menu.
NPC_SECTION = _("人大")

# Declared identically by every module that needs deputies (the registry accepts it):
# deputies sign budget amendment motions (congress.py).
DEPUTY = RoleSpec("deputy", _("人大代表"))

INVITE_TEMPLATE = "budget_panel_invite"


def _sees_budget_staff(user: Any) -> bool:
    from civicloop.core.units.selectors import user_standing

    if user is None or not getattr(user, "is_authenticated", False):
        return False
    standing = user_standing(user)
    return bool(getattr(user, "is_staff", False) or standing.is_admin or standing.unit_ids)


def _everyone(user: Any) -> bool:
    return True


MODULE = ModuleSpec(
    name="budgeting",
    label=_("参与式预算"),
    app="civicloop.budgeting",
    description=_(
        "参与式预算：项目征集与初审、随机抽选代表、民主恳谈（T1/T2 问卷）、投票、人代会审议和执行监督。"
    ),
    urls="civicloop.budgeting.urls",
    api_router="civicloop.budgeting.api.router",
    api_prefix="budget",
    settings=(
        # A spam brake on the public proposal page, per client address and hour.
        Setting("BUDGET_PROPOSALS_PER_IP_PER_HOUR", 5, "int"),
        # Questionnaire / RSVP posts per client address and hour (tickets are unguessable).
        Setting("BUDGET_TICKET_POSTS_PER_IP_PER_HOUR", 120, "int"),
    ),
    roles=(DEPUTY,),
    nav_items=(
        NavItem(_("参与式预算"), "/budget/", _everyone, order=45, section=NPC_SECTION),
        NavItem(_("预算初审"), "/budget/staff/", _sees_budget_staff, order=46, section=NPC_SECTION),
    ),
    sms_templates=(
        (
            INVITE_TEMPLATE,
            SmsTemplate(
                code="SMS_490013001",
                # The link: {site} is the deployment's SITE_URL (the domain filed with the
                # template), the path is fixed, only the member's ticket is a variable.
                text=(
                    "您已被随机抽选为${process}参与式预算民主恳谈代表，恳谈会${date}在${place}举行，"
                    "请在{site}/budget/t/${ticket}/回复是否参加。"
                ),
            ),
        ),
    ),
    demo_loader="civicloop.budgeting.demo.demo_budget_load",
)
