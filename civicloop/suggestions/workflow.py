"""The 代表建议 workflow template: from the deputy's draft to the deputy's evaluation.

A deputy drafts a suggestion (co-signers confirm), submits it; the 代表工委 reviews it
(accepts it as a 建议, or turns it back with a reason) and assigns it to a lead unit
(主办) with assisting units (协办); the lead unit answers in writing with a category
(A/B/C); the deputy evaluates. 不满意 sends it back to the lead unit once for a second
handling with its own deadline; the second evaluation closes it whatever it says.

The steps that need more than core can check (co-signers, units and months-long
deadlines, answer categories, the deputy's rating) are taken only through this module's
services (`only_via="suggestions"`)."""

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
from civicloop.core.sla.policy import SLA

DRAFTED, SUBMITTED, ACCEPTED, HANDLING, ANSWERED, REHANDLING = (
    "drafted",
    "submitted",
    "accepted",
    "handling",
    "answered",
    "rehandling",
)
CLOSED, RETURNED, WITHDRAWN = "closed", "returned", "withdrawn"
VIA = "suggestions"

_OFFICE = frozenset({Who.OWNER, Who.ADMIN})
_LEAD = frozenset({Who.HOLDER, Who.ADMIN})
_DEPUTY = frozenset({Who.SUBMITTER})

SUGGESTION_FLOW = WorkflowTemplate(
    code="suggestion",
    label=_("代表建议办理"),
    initial=DRAFTED,
    states=(
        # A draft belongs to its deputy; no unit holds it (the service clears the holder).
        State(DRAFTED, _("草稿"), HolderKind.NONE),
        State(SUBMITTED, _("待审查"), HolderKind.OWNER, SLA(10, "workday"), to_accept=True),
        State(ACCEPTED, _("待交办"), HolderKind.OWNER, SLA(5, "workday")),
        # Deadlines in months from assignment are set by the module's service.
        State(HANDLING, _("办理中"), HolderKind.ASSIGNEE),
        State(ANSWERED, _("已答复待评价"), HolderKind.OWNER),
        State(REHANDLING, _("不满意重新办理"), HolderKind.ASSIGNEE),
        State(CLOSED, _("已办结"), HolderKind.NONE, terminal=True),
        State(RETURNED, _("已退回"), HolderKind.NONE, terminal=True),
        State(WITHDRAWN, _("已撤回"), HolderKind.NONE, terminal=True),
    ),
    actions=(
        Action(
            "submit_draft",
            _("提交建议"),
            frozenset({DRAFTED}),
            SUBMITTED,
            _DEPUTY,
            primary=True,
            only_via=VIA,
            public=True,
        ),
        Action(
            "accept",
            _("审查通过，作为建议"),
            frozenset({SUBMITTED}),
            ACCEPTED,
            _OFFICE,
            primary=True,
            only_via=VIA,
            public=True,
        ),
        Action(
            "return",
            _("退回"),
            frozenset({SUBMITTED}),
            RETURNED,
            _OFFICE,
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT, Effect.CLOSE),
            only_via=VIA,
            public=True,
        ),
        Action(
            "assign",
            _("交办"),
            frozenset({ACCEPTED}),
            HANDLING,
            _OFFICE,
            frozenset({Requires.UNIT}),
            (Effect.ASSIGN_UNIT,),
            primary=True,
            only_via=VIA,
            public=True,
        ),
        Action(
            "answer",
            _("书面答复"),
            frozenset({HANDLING, REHANDLING}),
            ANSWERED,
            _LEAD,
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT,),
            primary=True,
            only_via=VIA,
            public=True,
        ),
        Action(
            "evaluate",
            _("代表评价"),
            frozenset({ANSWERED}),
            CLOSED,
            _DEPUTY,
            frozenset({Requires.RATING}),
            (Effect.CLOSE,),
            primary=True,
            only_via=VIA,
            public=True,
        ),
        Action(
            "rehandle",
            _("不满意，重新办理"),
            frozenset({ANSWERED}),
            REHANDLING,
            _DEPUTY,
            frozenset({Requires.NOTE}),
            (Effect.REWORK,),
            counts_as="rework",
            only_via=VIA,
            public=True,
        ),
        Action(
            "withdraw",
            _("撤回"),
            frozenset({DRAFTED, SUBMITTED}),
            WITHDRAWN,
            frozenset({Who.SUBMITTER, Who.ADMIN}),
            effects=(Effect.CLOSE,),
            public=True,
        ),
    ),
    withdraw_action="withdraw",
)


VIEWS_DUE, VIEWS_SENT = "views_due", "views_sent"

# An assisting unit's part: it owns and holds the case until it sends its views (the
# deadline is given when the case is opened, months after the assignment).
ASSIST_FLOW = WorkflowTemplate(
    code="suggestion_assist",
    label=_("代表建议协办"),
    initial=VIEWS_DUE,
    states=(
        State(VIEWS_DUE, _("待提出协办意见"), HolderKind.OWNER),
        State(VIEWS_SENT, _("已提出协办意见"), HolderKind.NONE, terminal=True),
    ),
    actions=(
        Action(
            "send_views",
            _("提出协办意见"),
            frozenset({VIEWS_DUE}),
            VIEWS_SENT,
            frozenset({Who.OWNER, Who.ADMIN}),
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT, Effect.CLOSE),
            primary=True,
            only_via=VIA,
        ),
    ),
)
