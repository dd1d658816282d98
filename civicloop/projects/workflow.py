"""The workflow templates of 民生实事: the candidate (later the project) and each of
its delivery milestones, both core cases so links, the cockpit and SLA sweeps work.

Every step of a candidate is taken by this module's services (`only_via="projects"`):
the shortlist, the ballot's result and the delivery follow the cycle, never a button on
the generic case page."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from civicloop.core.cases.workflow import (
    Action,
    Effect,
    HolderKind,
    Requires,
    State,
    Who,
    WorkflowTemplate,
)

VIA = "projects"
_OFFICE = frozenset({Who.OWNER, Who.ADMIN, Who.SYSTEM})

PROPOSED, SHORTLISTED, CHOSEN, DELIVERED = "proposed", "shortlisted", "chosen", "delivered"
SCREENED_OUT, NOT_CHOSEN = "screened_out", "not_chosen"

PROJECT_FLOW = WorkflowTemplate(
    code="project_candidate",
    label=_("民生实事候选项目"),
    initial=PROPOSED,
    states=(
        State(PROPOSED, _("征集中"), HolderKind.OWNER),
        State(SHORTLISTED, _("已列入候选"), HolderKind.OWNER),
        State(CHOSEN, _("票决当选·实施中"), HolderKind.OWNER),
        State(DELIVERED, _("已完成"), HolderKind.NONE, terminal=True),
        State(SCREENED_OUT, _("未列入候选"), HolderKind.NONE, terminal=True),
        State(NOT_CHOSEN, _("未当选"), HolderKind.NONE, terminal=True),
    ),
    actions=(
        Action(
            "shortlist",
            _("列入候选项目"),
            frozenset({PROPOSED}),
            SHORTLISTED,
            _OFFICE,
            only_via=VIA,
            public=True,
        ),
        Action(
            "unshortlist",
            _("移出候选项目"),
            frozenset({SHORTLISTED}),
            PROPOSED,
            _OFFICE,
            only_via=VIA,
        ),
        Action(
            "screen_out",
            _("不列入候选"),
            frozenset({PROPOSED}),
            SCREENED_OUT,
            _OFFICE,
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT, Effect.CLOSE),
            only_via=VIA,
            public=True,
        ),
        Action(
            "chosen",
            _("票决当选"),
            frozenset({SHORTLISTED}),
            CHOSEN,
            _OFFICE,
            only_via=VIA,
            public=True,
        ),
        Action(
            "not_chosen",
            _("票决未当选"),
            frozenset({SHORTLISTED}),
            NOT_CHOSEN,
            _OFFICE,
            effects=(Effect.CLOSE,),
            only_via=VIA,
            public=True,
        ),
        Action(
            "delivered",
            _("项目完成"),
            frozenset({CHOSEN}),
            DELIVERED,
            _OFFICE,
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT, Effect.CLOSE),
            only_via=VIA,
            public=True,
        ),
    ),
)

IN_PROGRESS, DONE, CANCELLED = "in_progress", "done", "cancelled"
_LEAD = frozenset({Who.OWNER, Who.ADMIN})

# A milestone is owned by the project's lead unit; its deadline is the milestone date
# (given when the case opens), so the cockpit and the SLA sweeps see a late one.
MILESTONE_FLOW = WorkflowTemplate(
    code="project_milestone",
    label=_("民生实事节点"),
    initial=IN_PROGRESS,
    states=(
        State(IN_PROGRESS, _("推进中"), HolderKind.OWNER),
        State(DONE, _("已完成"), HolderKind.NONE, terminal=True),
        State(CANCELLED, _("已取消"), HolderKind.NONE, terminal=True),
    ),
    actions=(
        Action(
            "progress",
            _("报送进度"),
            frozenset({IN_PROGRESS}),
            IN_PROGRESS,
            _LEAD,
            frozenset({Requires.NOTE}),
            (Effect.KEEP_DEADLINE,),
            only_via=VIA,
            public=True,
            takes_photos=True,
        ),
        Action(
            "delay",
            _("报告延期"),
            frozenset({IN_PROGRESS}),
            IN_PROGRESS,
            _LEAD,
            frozenset({Requires.NOTE}),
            (Effect.KEEP_DEADLINE,),
            only_via=VIA,
            public=True,
        ),
        Action(
            "complete",
            _("节点完成"),
            frozenset({IN_PROGRESS}),
            DONE,
            _LEAD,
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT, Effect.CLOSE),
            primary=True,
            only_via=VIA,
            public=True,
            takes_photos=True,
        ),
        Action(
            "cancel",
            _("取消节点"),
            frozenset({IN_PROGRESS}),
            CANCELLED,
            frozenset({Who.OWNER_LEADER, Who.ADMIN}),
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT, Effect.CLOSE),
            only_via=VIA,
        ),
    ),
)
