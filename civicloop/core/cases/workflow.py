"""Declarative workflow templates.

A template lists states and actions. An action says from which states it may be taken,
who may take it, what it requires, and what it does; the one engine in `services.py`
(`transition`) reads it. Modules register their own templates; core ships
`GENERIC_LOOP`, the closed loop the opinion channel and others use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from civicloop.core.sla.policy import SLA


class Who(StrEnum):
    """Who may take an action, relative to the case."""

    OWNER = "owner"  # staff of the receiving unit (a station, a deputy, a town office)
    OWNER_LEADER = "owner_leader"
    HOLDER = "holder"  # staff of the unit that holds the case now
    HOLDER_LEADER = "holder_leader"
    SUBMITTER = "submitter"  # the citizen who raised it
    ADMIN = "admin"
    # The platform itself (a sweep, a payment notification), acting with no user: only
    # actions that name SYSTEM may be taken with actor=None, and no user may take them
    # unless they are named too.
    SYSTEM = "system"


class Requires(StrEnum):
    NOTE = "note"
    UNIT = "unit"
    GRADE = "grade"
    RATING = "rating"
    DUE_AT = "due_at"
    MERGE_INTO = "merge_into"
    PENDING_EXTENSION = "pending_extension"


class Effect(StrEnum):
    """What an action does beyond moving to its target state. The engine implements each."""

    NONE = "none"
    ASSIGN_UNIT = "assign_unit"  # the given unit becomes the holder (dispatch, transfer)
    BACK_TO_OWNER = "back_to_owner"  # the receiving unit holds it again (return)
    KEEP_DEADLINE = "keep_deadline"  # the step inherits the previous step's due time
    SET_RESULT = "set_result"  # the note becomes the case's result (answer, result submitted)
    RATE = "rate"  # 满意/基本满意 close; 不满意 returns once, then goes to the supervisor
    REWORK = "rework"  # 返工: the result failed a check, back to the holder
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    DENY_EXTENSION = "deny_extension"
    DEFER = "defer"  # 缓办: the clock stops
    RESUME = "resume"  # the clock runs again with the time that was left
    MERGE = "merge"
    CLOSE = "close"


class HolderKind(StrEnum):
    OWNER = "owner"
    ASSIGNEE = "assignee"
    NONE = "none"


@dataclass(frozen=True)
class State:
    code: str
    label: str | Promise
    holder: HolderKind = HolderKind.OWNER
    sla: SLA | None = None
    terminal: bool = False


@dataclass(frozen=True)
class Action:
    code: str
    label: str | Promise
    sources: frozenset[str]
    target: str
    who: frozenset[Who]
    requires: frozenset[Requires] = frozenset()
    effects: tuple[Effect, ...] = ()
    # Shown as a primary button; otherwise in the "more" menu.
    primary: bool = False
    # Counted separately in the performance figures (返工率, 延期, 缓办 ...).
    counts_as: str = ""
    # Taken only through the named module's own service, which checks and does what core
    # cannot (the fire-lane evidence and notice); the generic pages and API never offer it.
    only_via: str = ""


@dataclass(frozen=True)
class WorkflowTemplate:
    code: str
    label: str | Promise
    initial: str
    states: tuple[State, ...]
    actions: tuple[Action, ...]
    # The handling deadline of a dispatched case, by grade (镇级/市级).
    grade_sla: dict[str, SLA] = field(default_factory=dict)
    default_dispatch_sla: SLA = SLA(10, "workday")  # noqa: RUF009 - SLA is frozen
    # How many 不满意 returns to the same unit before the case goes up to its supervisor.
    unsatisfied_returns: int = 1

    def state(self, code: str) -> State:
        for s in self.states:
            if s.code == code:
                return s
        raise KeyError(code)

    def action(self, code: str) -> Action:
        for a in self.actions:
            if a.code == code:
                return a
        raise KeyError(code)

    def actions_from(self, state: str) -> list[Action]:
        return [a for a in self.actions if state in a.sources]

    def open_states(self) -> list[str]:
        return [s.code for s in self.states if not s.terminal]

    def terminal_states(self) -> list[str]:
        return [s.code for s in self.states if s.terminal]

    def validate(self) -> None:
        """Refuse a template that names a state it does not define."""
        codes = {s.code for s in self.states}
        if self.initial not in codes:
            raise ValueError(f"{self.code}: initial state {self.initial!r} is not defined")
        seen: set[str] = set()
        for a in self.actions:
            if a.code in seen:
                raise ValueError(f"{self.code}: action {a.code!r} defined twice")
            seen.add(a.code)
            unknown = (set(a.sources) | {a.target}) - codes
            if unknown:
                raise ValueError(f"{self.code}: action {a.code!r} names unknown states {unknown}")


# ---------------------------------------------------------------------------
# The generic closed loop (民意处理 and other channels).

SUBMITTED, ACCEPTED, DISPATCHED, HANDLING, DEFERRED, RESULT_SUBMITTED = (
    "submitted",
    "accepted",
    "dispatched",
    "handling",
    "deferred",
    "result_submitted",
)
CLOSED, REJECTED, MERGED, WITHDRAWN = "closed", "rejected", "merged", "withdrawn"
_OPEN = frozenset({SUBMITTED, ACCEPTED, DISPATCHED, HANDLING, DEFERRED, RESULT_SUBMITTED})
_OWNER = frozenset({Who.OWNER, Who.ADMIN})
_HOLDER = frozenset({Who.HOLDER, Who.ADMIN})
_HOLDER_LEADER = frozenset({Who.HOLDER_LEADER, Who.ADMIN})

GENERIC_LOOP = WorkflowTemplate(
    code="generic_loop",
    label=_("通用闭环"),
    initial=SUBMITTED,
    states=(
        State(SUBMITTED, _("待受理"), HolderKind.OWNER, SLA(1, "workday")),
        State(ACCEPTED, _("已受理"), HolderKind.OWNER, SLA(2, "workday")),
        State(DISPATCHED, _("待签收"), HolderKind.ASSIGNEE),  # deadline set at dispatch
        State(HANDLING, _("办理中"), HolderKind.ASSIGNEE),
        State(DEFERRED, _("缓办"), HolderKind.ASSIGNEE),
        State(RESULT_SUBMITTED, _("待评价"), HolderKind.OWNER, SLA(3, "workday")),
        State(CLOSED, _("已办结"), HolderKind.NONE, terminal=True),
        State(REJECTED, _("不予受理"), HolderKind.NONE, terminal=True),
        State(MERGED, _("已合并"), HolderKind.NONE, terminal=True),
        State(WITHDRAWN, _("已撤回"), HolderKind.NONE, terminal=True),
    ),
    actions=(
        Action("accept", _("受理"), frozenset({SUBMITTED}), ACCEPTED, _OWNER, primary=True),
        Action(
            "answer",
            _("直接答复"),
            frozenset({SUBMITTED, ACCEPTED}),
            CLOSED,
            _OWNER,
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT, Effect.CLOSE),
            primary=True,
        ),
        Action(
            "dispatch",
            _("交办"),
            frozenset({ACCEPTED}),
            DISPATCHED,
            _OWNER,
            frozenset({Requires.UNIT, Requires.GRADE}),
            (Effect.ASSIGN_UNIT,),
            primary=True,
        ),
        Action(
            "claim",
            _("签收"),
            frozenset({DISPATCHED}),
            HANDLING,
            _HOLDER,
            effects=(Effect.KEEP_DEADLINE,),
            primary=True,
        ),
        Action(
            "return",
            _("退回（非本单位职责）"),
            frozenset({DISPATCHED}),
            ACCEPTED,
            _HOLDER,
            frozenset({Requires.NOTE}),
            (Effect.BACK_TO_OWNER,),
            counts_as="returned",
        ),
        Action(
            "transfer",
            _("改派"),
            frozenset({DISPATCHED, HANDLING}),
            DISPATCHED,
            _OWNER,
            frozenset({Requires.UNIT, Requires.NOTE}),
            (Effect.ASSIGN_UNIT,),
            counts_as="transferred",
        ),
        Action(
            "submit_result",
            _("提交办理结果"),
            frozenset({HANDLING}),
            RESULT_SUBMITTED,
            _HOLDER,
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT,),
            primary=True,
        ),
        Action(
            "request_extension",
            _("申请延期"),
            frozenset({HANDLING}),
            HANDLING,
            _HOLDER,
            frozenset({Requires.NOTE, Requires.DUE_AT}),
            (Effect.REQUEST_EXTENSION, Effect.KEEP_DEADLINE),
        ),
        Action(
            "approve_extension",
            _("批准延期"),
            frozenset({HANDLING}),
            HANDLING,
            _HOLDER_LEADER,
            frozenset({Requires.PENDING_EXTENSION}),
            (Effect.APPROVE_EXTENSION,),
            counts_as="extension",
        ),
        Action(
            "deny_extension",
            _("不同意延期"),
            frozenset({HANDLING}),
            HANDLING,
            _HOLDER_LEADER,
            frozenset({Requires.PENDING_EXTENSION, Requires.NOTE}),
            (Effect.DENY_EXTENSION, Effect.KEEP_DEADLINE),
        ),
        Action(
            "defer",
            _("缓办"),
            frozenset({HANDLING}),
            DEFERRED,
            _HOLDER_LEADER,
            frozenset({Requires.NOTE}),
            (Effect.DEFER,),
            counts_as="deferred",
        ),
        Action(
            "resume",
            _("恢复办理"),
            frozenset({DEFERRED}),
            HANDLING,
            _HOLDER,
            effects=(Effect.RESUME,),
        ),
        Action(
            "rework",
            _("返工"),
            frozenset({RESULT_SUBMITTED}),
            HANDLING,
            _OWNER,
            frozenset({Requires.NOTE}),
            (Effect.REWORK,),
            counts_as="rework",
        ),
        Action(
            "rate",
            _("评价"),
            frozenset({RESULT_SUBMITTED}),
            CLOSED,
            _OWNER,
            frozenset({Requires.RATING}),
            (Effect.RATE,),
            primary=True,
        ),
        Action(
            "reject",
            _("不予受理"),
            frozenset({SUBMITTED, ACCEPTED}),
            REJECTED,
            _OWNER,
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT, Effect.CLOSE),
        ),
        Action(
            "merge",
            _("合并重复件"),
            frozenset({SUBMITTED, ACCEPTED}),
            MERGED,
            _OWNER,
            frozenset({Requires.MERGE_INTO}),
            (Effect.MERGE, Effect.CLOSE),
        ),
        Action(
            "withdraw",
            _("撤回"),
            _OPEN,
            WITHDRAWN,
            frozenset({Who.SUBMITTER, Who.ADMIN}),
            effects=(Effect.CLOSE,),
        ),
    ),
    grade_sla={"town": SLA(10, "workday"), "city": SLA(15, "workday")},
)
