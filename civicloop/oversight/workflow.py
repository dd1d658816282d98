"""The workflow templates of 督政议事.

A question put to a department at a meeting (`oversight_question`) is a case the
department owns and holds from the moment it is asked, due on the answer date the
meeting set. The department answers it (on the generic case page or its workbench);
the deputies who took part then rate the department's answers (满意 / 基本满意 /
不满意, one vote each, counted by this module) and, when the 代表工委 closes the vote,
the platform records the outcome on every answered case with core's RATE effect (so the
cockpit's 满意率 covers the channel).

A decision of the meeting followed up (`oversight_followup`) is a case the responsible
unit holds until it reports what it did, by the date the meeting set."""

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

VIA = "oversight"
ASKED, ANSWERED, REANSWER, RATED = "asked", "answered", "reanswer", "rated"
DOING, DONE = "doing", "done"

_UNIT = frozenset({Who.OWNER, Who.ADMIN})
_SYSTEM = frozenset({Who.SYSTEM})

QUESTION_FLOW = WorkflowTemplate(
    code="oversight_question",
    label=_("督政询问答复"),
    initial=ASKED,
    states=(
        # Due on the answer date the meeting set (given when the case opens), else in
        # 15 working days (the usual time for a written answer to a 专题询问).
        State(ASKED, _("待答复"), HolderKind.OWNER, SLA(15, "workday"), to_accept=True),
        State(ANSWERED, _("已答复待测评"), HolderKind.NONE),
        # Core's RATE effect requires a unit-held state for 不满意 returns. A question has
        # no assigned unit (the department owns it) and `unsatisfied_returns` is 0, so a
        # 不满意 outcome closes the case rated, and the meeting's follow-up cases carry the
        # matter on; this state is where an assigned unit would answer again.
        State(REANSWER, _("重新答复"), HolderKind.ASSIGNEE, SLA(10, "workday")),
        State(RATED, _("已测评"), HolderKind.NONE, terminal=True),
    ),
    actions=(
        Action(
            "answer",
            _("书面答复"),
            frozenset({ASKED}),
            ANSWERED,
            _UNIT,
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT,),
            primary=True,
            public=True,
            takes_photos=True,
        ),
        Action(
            "answer_again",
            _("重新答复"),
            frozenset({REANSWER}),
            ANSWERED,
            frozenset({Who.HOLDER, Who.ADMIN}),
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT,),
            primary=True,
            public=True,
        ),
        # The tally of the deputies' vote, recorded when the 代表工委 closes it.
        Action(
            "rate",
            _("满意度测评结果"),
            frozenset({ANSWERED}),
            RATED,
            _SYSTEM,
            frozenset({Requires.RATING}),
            (Effect.RATE,),
            only_via=VIA,
            public=True,
        ),
    ),
    unsatisfied_returns=0,
    rework_state=REANSWER,
    escalate_state=REANSWER,
)

FOLLOW_UP_FLOW = WorkflowTemplate(
    code="oversight_followup",
    label=_("督政事项跟踪落实"),
    initial=DOING,
    states=(
        # Due on the date the meeting's decision set (given when the case opens).
        State(DOING, _("待落实"), HolderKind.OWNER, to_accept=True),
        State(DONE, _("已报告落实情况"), HolderKind.NONE, terminal=True),
    ),
    actions=(
        Action(
            "report",
            _("报告落实情况"),
            frozenset({DOING}),
            DONE,
            _UNIT,
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT, Effect.CLOSE),
            primary=True,
            public=True,
            takes_photos=True,
        ),
    ),
)
