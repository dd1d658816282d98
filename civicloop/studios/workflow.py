"""The 协商在线 thread and the unit's part, as workflow templates on the core engine.

A consultation waits for the member's first reply (its deadline set per studio when the
case opens; the core sweep reminds and escalates to the studio's supervisor). The
member answers, invites the citizen to the duty day, or passes it to a unit; a unit's
result comes back into the thread; the citizen rates the answer, which closes it. Every
step is taken through this module's services (`only_via`), which write the message."""

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

WAITING, ANSWERED, INVITED, WITH_UNIT, CLOSED = (
    "waiting",
    "answered",
    "invited",
    "with_unit",
    "closed",
)
TODO, DONE = "todo", "done"
VIA = "studios"

_MEMBER = frozenset({Who.OWNER, Who.ADMIN})
_CITIZEN = frozenset({Who.SUBMITTER, Who.ADMIN})
_OPEN = frozenset({WAITING, ANSWERED, INVITED, WITH_UNIT})

CONSULTATION_FLOW = WorkflowTemplate(
    code="consultation",
    label=_("协商在线"),
    initial=WAITING,
    # The citizen's rating closes the conversation whatever it is; 不满意 counts in the
    # studio's satisfaction figures.
    unsatisfied_returns=0,
    states=(
        # The deadline is the studio's (`Studio.reply_days`), given when the case opens.
        State(WAITING, _("待委员答复"), HolderKind.OWNER, to_accept=True),
        State(ANSWERED, _("委员已答复"), HolderKind.OWNER),
        State(INVITED, _("已邀请到值班日面谈"), HolderKind.OWNER),
        State(WITH_UNIT, _("已转交单位办理"), HolderKind.OWNER),
        State(CLOSED, _("已评价"), HolderKind.NONE, terminal=True),
    ),
    actions=(
        Action(
            "reply",
            _("答复"),
            _OPEN,
            ANSWERED,
            _MEMBER,
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT,),
            primary=True,
            only_via=VIA,
            public=True,
        ),
        Action(
            "invite",
            _("邀请到值班日面谈"),
            _OPEN,
            INVITED,
            _MEMBER,
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT,),
            only_via=VIA,
            public=True,
        ),
        Action(
            "pass_to_unit",
            _("转交单位办理"),
            _OPEN,
            WITH_UNIT,
            _MEMBER,
            frozenset({Requires.NOTE}),
            only_via=VIA,
            public=True,
        ),
        Action(
            "unit_result",
            _("单位办理结果"),
            frozenset({WITH_UNIT}),
            ANSWERED,
            frozenset({Who.SYSTEM, Who.ADMIN}),
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT,),
            only_via=VIA,
            public=True,
        ),
        Action(
            "rate",
            _("评价"),
            frozenset({ANSWERED, INVITED}),
            CLOSED,
            _CITIZEN,
            frozenset({Requires.RATING}),
            # No unit holds a consultation: 不满意 is recorded and closes it too.
            (Effect.RATE, Effect.CLOSE),
            primary=True,
            only_via=VIA,
            public=True,
        ),
    ),
)

# A unit's part of a consultation: a case of its own with a deadline, owned and held by
# the unit; its result goes back into the thread it came from.
REFERRAL_FLOW = WorkflowTemplate(
    code="consultation_referral",
    label=_("协商在线转办"),
    initial=TODO,
    states=(
        State(TODO, _("待办理"), HolderKind.OWNER, to_accept=True),
        State(DONE, _("已办结"), HolderKind.NONE, terminal=True),
    ),
    actions=(
        Action(
            "result",
            _("提交办理结果"),
            frozenset({TODO}),
            DONE,
            frozenset({Who.OWNER, Who.ADMIN}),
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT, Effect.CLOSE),
            primary=True,
            only_via=VIA,
        ),
    ),
)
