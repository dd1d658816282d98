"""The fire-lane workflow template: from the warning to the paid or dismissed notice.

The penalty follows 行政处罚法: the notice (告知, `noticed`) tells the owner the intended
penalty and their right to state their case; only after the statement is answered, or the
period lapses, or the owner waives it, is the decision (处罚决定书, `decided`) made, and
only a decision can be paid (第四十四条, 第四十五条, 第六十二条: no penalty before the
party was told and heard).

A case is opened when a stay reaches its site's warning threshold (T1). Everything
that needs evidence or writes a notice is taken only through this module's services
(`only_via="firelane"`), so the generic case pages can never skip the review that
行政处罚法 第四十一条 requires before a camera-based notice goes out."""

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

WARNED, REVIEW, TO_POST, NOTICED, STATEMENT = (
    "warned",
    "review",
    "to_post",
    "noticed",
    "statement",
)
DECIDED = "decided"
MOVED, DISMISSED, PAID, CLOSED = "moved", "dismissed", "paid", "closed"

_SYSTEM = frozenset({Who.SYSTEM})
_OFFICER = frozenset({Who.OWNER, Who.ADMIN})
VIA = "firelane"

FIRELANE_FLOW = WorkflowTemplate(
    code="firelane",
    label=_("生命通道非现场执法"),
    initial=WARNED,
    states=(
        State(WARNED, _("已提醒"), HolderKind.NONE),
        # New work for the officer: on the workbench's "to accept" list.
        State(REVIEW, _("待审核"), HolderKind.OWNER, SLA(1, "workday"), to_accept=True),
        State(TO_POST, _("待张贴告知单"), HolderKind.OWNER, SLA(1, "workday")),
        State(NOTICED, _("已告知"), HolderKind.NONE),
        State(STATEMENT, _("陈述申辩待复核"), HolderKind.OWNER, SLA(3, "workday"), to_accept=True),
        # The decision is served; the owner pays within the payment period.
        State(DECIDED, _("已作出处罚决定"), HolderKind.NONE),
        State(MOVED, _("已驶离"), HolderKind.NONE, terminal=True),
        State(DISMISSED, _("不予处罚"), HolderKind.NONE, terminal=True),
        State(PAID, _("已缴款"), HolderKind.NONE, terminal=True),
        State(CLOSED, _("已结案"), HolderKind.NONE, terminal=True),
    ),
    actions=(
        # Only the outcomes are public (shown in a timeline the party may see); the
        # review steps are internal.
        Action(
            "moved", _("车辆已驶离"), frozenset({WARNED}), MOVED, _SYSTEM, only_via=VIA, public=True
        ),
        Action("evidence", _("证据已生成"), frozenset({WARNED}), REVIEW, _SYSTEM, only_via=VIA),
        Action(
            "approve",
            _("审核通过，开具告知单"),
            frozenset({REVIEW}),
            NOTICED,
            _OFFICER,
            primary=True,
            only_via=VIA,
        ),
        Action(
            "approve_post",
            _("审核通过，张贴告知单"),
            frozenset({REVIEW}),
            TO_POST,
            _OFFICER,
            primary=True,
            only_via=VIA,
        ),
        Action(
            "dismiss",
            _("不予处罚"),
            frozenset({REVIEW}),
            DISMISSED,
            _OFFICER,
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT,),
            only_via=VIA,
            public=True,
        ),
        Action(
            "posted",
            _("已张贴告知单"),
            frozenset({TO_POST}),
            NOTICED,
            _OFFICER,
            primary=True,
            only_via=VIA,
        ),
        Action(
            "state_case",
            _("当事人陈述申辩"),
            frozenset({NOTICED}),
            STATEMENT,
            _SYSTEM,
            frozenset({Requires.NOTE}),
            only_via=VIA,
        ),
        # The statement period lapsed, or the owner waived it on their page: the decision
        # follows the notice unchanged.
        Action(
            "decide",
            _("陈述申辩期满，作出处罚决定"),
            frozenset({NOTICED}),
            DECIDED,
            _SYSTEM,
            only_via=VIA,
            public=True,
        ),
        Action(
            "waive",
            _("当事人放弃陈述申辩，作出处罚决定"),
            frozenset({NOTICED}),
            DECIDED,
            _SYSTEM,
            only_via=VIA,
            public=True,
        ),
        Action(
            "uphold",
            _("申辩不成立，作出处罚决定"),
            frozenset({STATEMENT}),
            DECIDED,
            _OFFICER,
            frozenset({Requires.NOTE}),
            primary=True,
            only_via=VIA,
            public=True,
        ),
        Action(
            "reduce",
            _("申辩部分成立，减轻处罚"),
            frozenset({STATEMENT}),
            DECIDED,
            _OFFICER,
            frozenset({Requires.NOTE}),
            only_via=VIA,
            public=True,
        ),
        Action(
            "accept_statement",
            _("申辩成立，不予处罚"),
            frozenset({STATEMENT}),
            DISMISSED,
            _OFFICER,
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT,),
            only_via=VIA,
            public=True,
        ),
        Action(
            "paid",
            _("已缴款"),
            # Never on a notice: only a decision can be paid.
            frozenset({DECIDED}),
            PAID,
            _SYSTEM,
            only_via=VIA,
            public=True,
        ),
        Action(
            "close",
            _("结案"),
            frozenset({NOTICED, DECIDED}),
            CLOSED,
            _OFFICER,
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT,),
            only_via=VIA,
            public=True,
        ),
    ),
)
