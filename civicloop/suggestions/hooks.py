"""What the 代表建议 module declares to core (the module contract, `MODULE`).

Read while settings load: nothing here imports models at import time."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from civicloop.core.registry import (
    Channel,
    CockpitTile,
    Intake,
    ModuleSpec,
    NavItem,
    Publication,
    RoleSpec,
    Setting,
    UnitKindSpec,
)

# The top bar shows the links of the same section under one menu.
NPC_SECTION = _("人大")

# The same role and unit kind the 民意 module declares (identical duplicates are allowed),
# so this module works when it is enabled alone.
DEPUTY = RoleSpec("deputy", _("人大代表"))
STATION = UnitKindSpec("station", _("代表联络站"))
# The 人大常委会代表工委: it reviews, assigns and follows every suggestion.
NPC_OFFICE_UNIT = "dept-npc-deputies"

SUGGESTION = Channel(
    code="suggestion",
    name=_("代表建议"),
    number_prefix="JY",
    workflow="suggestion",
    description=_("人大代表提出的建议、批评和意见：代表工委审查交办，承办单位沟通答复，代表评价。"),
    categories=(
        ("economy", _("经济发展")),
        ("urban", _("城乡建设")),
        ("transport", _("交通出行")),
        ("environment", _("生态环境")),
        ("education", _("教育文化")),
        ("health", _("医疗卫生")),
        ("social", _("社会保障")),
        ("governance", _("社会治理")),
        ("other", _("其他")),
    ),
    intakes=frozenset({Intake.MODULE}),
    keywords=("代表建议", "人大代表", "建议批评和意见"),
    publication=Publication.NOTHING,
    owner_unit_kinds=("department",),
    staff_page="/suggestions/{number}/",
    staff_page_label=_("在代表建议页办理"),
)

# An assisting unit's views (协办意见) are a step with its own deadline: a case of its
# own, held by the assisting unit, so reminders, overdue sweeps and the workbench see it.
SUGGESTION_ASSIST = Channel(
    code="suggestion_assist",
    name=_("代表建议协办"),
    number_prefix="JX",
    workflow="suggestion_assist",
    description=_("协办单位在时限内向主办单位提出协办意见。"),
    intakes=frozenset({Intake.MODULE}),
    publication=Publication.NOTHING,
    owner_unit_kinds=("department", "town_office"),
    staff_page="/suggestions/{number}/",
    staff_page_label=_("在代表建议页提交协办意见"),
)


def _standing(user: Any) -> Any:
    from civicloop.core.units.selectors import user_standing

    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user_standing(user)


def _sees_suggestions(user: Any) -> bool:
    standing = _standing(user)
    if standing is None:
        return False
    return (
        standing.is_admin
        or bool(standing.area_paths)
        or any(
            kind in ("department", "town_office") or DEPUTY.code in standing.unit_roles.get(pk, ())
            for pk, (_code, kind) in standing.unit_info.items()
        )
    )


def _sees_figures(user: Any) -> bool:
    standing = _standing(user)
    if standing is None:
        return False
    return standing.is_admin or bool(standing.area_paths) or standing.in_unit_coded(NPC_OFFICE_UNIT)


SETTINGS = (
    # 温岭市人民代表大会代表建议、批评和意见办理办法: answered within three months of
    # assignment, six for those hard to solve; a 不满意 is handled again within one.
    Setting("SUGGESTION_ANSWER_MONTHS", 3, "int", doc="Months to answer a suggestion."),
    Setting("SUGGESTION_HARD_ANSWER_MONTHS", 6, "int", doc="Months for a hard suggestion."),
    Setting("SUGGESTION_SECOND_ANSWER_MONTHS", 1, "int", doc="Months for a second answer."),
    Setting("SUGGESTION_ASSIST_MONTHS", 1, "int", doc="Months for assisting units' views."),
)

MODULE = ModuleSpec(
    name="suggestions",
    label=_("代表建议"),
    app="civicloop.suggestions",
    description=_("人大代表建议、批评和意见：提出、附议、审查、交办、答复、评价和重点督办。"),
    channels=(SUGGESTION, SUGGESTION_ASSIST),
    workflows=(
        "civicloop.suggestions.workflow.SUGGESTION_FLOW",
        "civicloop.suggestions.workflow.ASSIST_FLOW",
    ),
    urls="civicloop.suggestions.urls",
    api_router="civicloop.suggestions.api.router",
    api_prefix="suggestions",
    settings=SETTINGS,
    roles=(DEPUTY,),
    unit_kinds=(STATION,),
    nav_items=(
        NavItem(_("代表建议"), "/suggestions/", _sees_suggestions, order=40, section=NPC_SECTION),
        NavItem(
            _("建议统计"), "/suggestions/figures/", _sees_figures, order=41, section=NPC_SECTION
        ),
    ),
    cockpit_tiles=(
        CockpitTile(
            "suggestions", _("代表建议"), "civicloop.suggestions.selectors.cockpit_figures"
        ),
    ),
    event_labels=(
        ("suggestion_cosign", _("附议")),
        ("suggestion_key", _("列为重点督办")),
        ("suggestion_views", _("协办意见")),
        ("suggestion_contact", _("沟通联系")),
    ),
    demo_loader="civicloop.suggestions.demo.demo_suggestions_load",
)
