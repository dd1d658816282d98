"""Declarative workflow templates.

A template lists states and actions. An action says from which states it may be taken,
who may take it, what it requires, and what it does; the one engine in `services.py`
(`transition`) reads it. Modules register their own templates; core ships
`GENERIC_LOOP`, the closed loop the opinion channel and others use.

Everything the engine and the generic pages need to know about a loop is said here, as
attributes (which states wait for acceptance, which actions the citizen sees, where a
rating returns), so no code outside a template names its states or actions.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

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
    # Each instance of a repeat of the case's form answers becomes a case of its own on
    # another channel (a meeting's decisions, a visit's matters), linked "came from" /
    # "became". Done by the handler registered for it (core.forms); its parameters are
    # the action's `params` (repeat, channel, title; body, due, when, owner).
    SPAWN_CASES = "spawn_cases"


class Params(Mapping[str, Any]):
    """An action's effect parameters: a read-only, hashable mapping of JSON values (so
    an Action stays frozen and hashable). Reading a value gives a copy."""

    __slots__ = ("_data", "_key")

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        key = json.dumps(dict(data or {}), sort_keys=True, ensure_ascii=False)
        self._data: dict[str, Any] = json.loads(key)
        self._key = key

    def __getitem__(self, name: str) -> Any:
        return copy.deepcopy(self._data[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Params):
            return self._key == other._key
        return isinstance(other, Mapping) and self._data == dict(other)

    def __repr__(self) -> str:
        return f"Params({self._key})"

    def as_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self._data)


NO_PARAMS = Params()


# The timeline entry `case_submit` writes when a case opens: not an action of any
# template, and always shown to the citizen.
OPENED_ENTRY = "submit"


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
    # The holder has yet to take the case in hand (the workbench's "to accept" list).
    to_accept: bool = False


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
    # Shown in the citizen's timeline of their case (internal steps are not).
    public: bool = False
    # The unit given must differ from the one holding the case now (改派).
    unit_must_differ: bool = False
    # The page offers site photos with it (a handling result).
    takes_photos: bool = False
    # The parameters of its effects (SPAWN_CASES: repeat, channel, title ...).
    params: Params = NO_PARAMS


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
    # Where a RATE of 不满意 sends the case: back to the assigned unit (`rework_state`)
    # for the first `unsatisfied_returns` times, then up to its supervisor
    # (`escalate_state`). Required when an action has the RATE effect, unless
    # `unsatisfied_returns` is 0 and neither is named: then 不满意 is recorded and closes.
    rework_state: str = ""
    escalate_state: str = ""
    # The action the citizen's own page offers to withdraw a case ("" for none).
    withdraw_action: str = ""

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

    def to_accept_states(self) -> list[str]:
        return [s.code for s in self.states if s.to_accept]

    def is_public_entry(self, code: str) -> bool:
        """Whether a timeline entry of this code is shown to the citizen: the opening
        entry and the actions marked `public`; never module events or internal steps."""
        if code == OPENED_ENTRY:
            return True
        return any(a.code == code and a.public for a in self.actions)

    def validate(self) -> None:
        """Refuse (ValueError, naming the template and the rule) a template the engine
        could not run: a state it does not define, an action defined twice, or an
        action whose effects lack what they need (the input they read, or a target state
        of the right kind)."""
        codes = {s.code for s in self.states}
        if self.initial not in codes:
            raise ValueError(f"{self.code}: initial state {self.initial!r} is not defined")
        for st in self.states:
            if st.to_accept and st.terminal:
                raise ValueError(f"{self.code}: terminal state {st.code!r} cannot be to_accept")
        seen: set[str] = set()
        for a in self.actions:
            if a.code == OPENED_ENTRY:
                raise ValueError(f"{self.code}: action code {a.code!r} is reserved")
            if a.code in seen:
                raise ValueError(f"{self.code}: action {a.code!r} defined twice")
            seen.add(a.code)
            unknown = (set(a.sources) | {a.target}) - codes
            if unknown:
                raise ValueError(f"{self.code}: action {a.code!r} names unknown states {unknown}")
            self._validate_action(a)
        for name in ("rework_state", "escalate_state"):
            code = getattr(self, name)
            if code and code not in codes:
                raise ValueError(f"{self.code}: {name} {code!r} is not defined")
        if self.withdraw_action:
            if self.withdraw_action not in seen:
                raise ValueError(
                    f"{self.code}: withdraw_action {self.withdraw_action!r} is not defined"
                )
            act = self.action(self.withdraw_action)
            if Who.SUBMITTER not in act.who or not self.state(act.target).terminal:
                raise ValueError(
                    f"{self.code}: withdraw_action {act.code!r} must be taken by the "
                    "submitter and end the case"
                )

    def _validate_action(self, a: Action) -> None:
        def refuse(why: str) -> ValueError:
            return ValueError(f"{self.code}: action {a.code!r} {why}")

        def need(*required: Requires) -> None:
            missing = set(required) - a.requires
            if missing:
                names = ", ".join(sorted(missing))
                raise refuse(f"has effects that need requires {names}")

        def handled_by_unit(code: str, kind: HolderKind, what: str) -> None:
            state = self.state(code)
            if state.terminal or state.holder is not kind:
                raise refuse(f"{what} {code!r} must be an open state held by the {kind}")

        target = self.state(a.target)
        effects = set(a.effects)
        if a.unit_must_differ:
            need(Requires.UNIT)
        if Effect.ASSIGN_UNIT in effects:
            need(Requires.UNIT)
            handled_by_unit(a.target, HolderKind.ASSIGNEE, "assigns a unit: its target")
        if Effect.BACK_TO_OWNER in effects:
            handled_by_unit(a.target, HolderKind.OWNER, "hands back to the owner: its target")
        if Effect.SET_RESULT in effects:
            need(Requires.NOTE)
        if Effect.RATE in effects:
            need(Requires.RATING)
            if not target.terminal:
                raise refuse("rates: a satisfied rating must end the case (terminal target)")
            # A conversation no unit holds (协商在线) records 不满意 and closes: it says so
            # with `unsatisfied_returns=0` and neither state.
            closes_unsatisfied = self.unsatisfied_returns == 0 and not (
                self.rework_state or self.escalate_state
            )
            for name in () if closes_unsatisfied else ("rework_state", "escalate_state"):
                code = getattr(self, name)
                if not code:
                    raise refuse(f"rates, so the template must name its {name}")
                if code not in {s.code for s in self.states}:
                    raise ValueError(f"{self.code}: {name} {code!r} is not defined")
                handled_by_unit(code, HolderKind.ASSIGNEE, f"rates: the {name}")
        if Effect.REWORK in effects:
            handled_by_unit(a.target, HolderKind.ASSIGNEE, "sends back for rework: its target")
        if Effect.REQUEST_EXTENSION in effects:
            need(Requires.DUE_AT, Requires.NOTE)
        if effects & {Effect.APPROVE_EXTENSION, Effect.DENY_EXTENSION}:
            need(Requires.PENDING_EXTENSION)
        if Effect.DEFER in effects and target.terminal:
            raise refuse("defers: its target must be an open state")
        if Effect.MERGE in effects:
            need(Requires.MERGE_INTO)
        if Effect.CLOSE in effects and not target.terminal:
            raise refuse("closes: its target must be a terminal state")
        if Effect.SPAWN_CASES in effects:
            for name in ("repeat", "channel", "title"):
                value = a.params.get(name)
                if not isinstance(value, str) or not value.strip():
                    raise refuse(f"spawns cases, so its params must name its {name}")
            if a.params.get("owner", "parent") not in ("parent", "area"):
                raise refuse("spawns cases: params owner must be 'parent' or 'area'")


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
        State(SUBMITTED, _("待受理"), HolderKind.OWNER, SLA(1, "workday"), to_accept=True),
        State(ACCEPTED, _("已受理"), HolderKind.OWNER, SLA(2, "workday")),
        # The deadline of 待签收 is set at dispatch.
        State(DISPATCHED, _("待签收"), HolderKind.ASSIGNEE, to_accept=True),
        State(HANDLING, _("办理中"), HolderKind.ASSIGNEE),
        State(DEFERRED, _("缓办"), HolderKind.ASSIGNEE),
        State(RESULT_SUBMITTED, _("待评价"), HolderKind.OWNER, SLA(3, "workday")),
        State(CLOSED, _("已办结"), HolderKind.NONE, terminal=True),
        State(REJECTED, _("不予受理"), HolderKind.NONE, terminal=True),
        State(MERGED, _("已合并"), HolderKind.NONE, terminal=True),
        State(WITHDRAWN, _("已撤回"), HolderKind.NONE, terminal=True),
    ),
    actions=(
        Action(
            "accept", _("受理"), frozenset({SUBMITTED}), ACCEPTED, _OWNER, primary=True, public=True
        ),
        Action(
            "answer",
            _("直接答复"),
            frozenset({SUBMITTED, ACCEPTED}),
            CLOSED,
            _OWNER,
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT, Effect.CLOSE),
            primary=True,
            public=True,
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
            public=True,
        ),
        Action(
            "claim",
            _("签收"),
            frozenset({DISPATCHED}),
            HANDLING,
            _HOLDER,
            effects=(Effect.KEEP_DEADLINE,),
            primary=True,
            public=True,
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
            public=True,
            unit_must_differ=True,
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
            public=True,
            takes_photos=True,
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
            public=True,
        ),
        Action(
            "resume",
            _("恢复办理"),
            frozenset({DEFERRED}),
            HANDLING,
            _HOLDER,
            effects=(Effect.RESUME,),
            public=True,
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
            public=True,
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
            public=True,
        ),
        Action(
            "reject",
            _("不予受理"),
            frozenset({SUBMITTED, ACCEPTED}),
            REJECTED,
            _OWNER,
            frozenset({Requires.NOTE}),
            (Effect.SET_RESULT, Effect.CLOSE),
            public=True,
        ),
        Action(
            "merge",
            _("合并重复件"),
            frozenset({SUBMITTED, ACCEPTED}),
            MERGED,
            _OWNER,
            frozenset({Requires.MERGE_INTO}),
            (Effect.MERGE, Effect.CLOSE),
            public=True,
        ),
        Action(
            "withdraw",
            _("撤回"),
            _OPEN,
            WITHDRAWN,
            frozenset({Who.SUBMITTER, Who.ADMIN}),
            effects=(Effect.CLOSE,),
            public=True,
        ),
    ),
    grade_sla={"town": SLA(10, "workday"), "city": SLA(15, "workday")},
    rework_state=HANDLING,
    escalate_state=DISPATCHED,
    withdraw_action="withdraw",
)
