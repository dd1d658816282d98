"""Everything that changes a suggestion. Each service checks who may do it, changes its
rows and the case (through core's `transition`, `only_via="suggestions"`) and writes the
timeline entry, in one transaction; a refusal is a SuggestionError and changes nothing."""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.core.accounts.models import User
from civicloop.core.attachments.models import Attachment
from civicloop.core.cases.access import cases_visible_to
from civicloop.core.cases.errors import CaseError
from civicloop.core.cases.links import case_links_add
from civicloop.core.cases.models import Case, CaseStep, Rating
from civicloop.core.cases.services import (
    CaseDraft,
    case_submit,
    clean_text,
    step_times,
    timeline_append,
    transition,
)
from civicloop.core.sla.working_days import CHINA_TZ, parse_office_hours, span_is_provisional
from civicloop.core.units.models import Membership, Unit
from civicloop.core.units.selectors import user_standing
from civicloop.suggestions import workflow as wf
from civicloop.suggestions.errors import SuggestionError, SuggestionErrorCode
from civicloop.suggestions.hooks import DEPUTY, NPC_OFFICE_UNIT, SUGGESTION, SUGGESTION_ASSIST
from civicloop.suggestions.models import (
    Answer,
    AnswerCategory,
    Assignment,
    AssignmentRole,
    Contact,
    ContactMethod,
    Cosigner,
    CosignStatus,
    Evaluation,
    SessionKind,
    Suggestion,
)

E = SuggestionErrorCode
MAX_COSIGNERS = 30
MAX_OPINIONS = 20
MAX_ASSISTING = 8


# --------------------------------------------------------------------------- who


def is_deputy(user: Any) -> bool:
    """Whether the user is a deputy (role 人大代表 in some unit, a liaison station)."""
    standing = user_standing(user)
    return any(DEPUTY.code in roles for roles in standing.unit_roles.values())


def is_npc_office(user: Any) -> bool:
    """Staff of the 代表工委 (or an administrator): they review, assign and follow."""
    standing = user_standing(user)
    return standing.is_admin or standing.in_unit_coded(NPC_OFFICE_UNIT)


def npc_office_unit() -> Unit:
    try:
        return Unit.objects.get(code=NPC_OFFICE_UNIT)
    except Unit.DoesNotExist:
        raise SuggestionError(E.INVALID, _("未找到代表工委单位，请联系管理员。")) from None


def _deputy_check(user: Any) -> None:
    if not is_deputy(user):
        raise SuggestionError(E.NOT_DEPUTY)


def _member_of(user: Any, unit_id: int) -> bool:
    standing = user_standing(user)
    return standing.is_admin or standing.has_role_in(unit_id)


# --------------------------------------------------------------------------- deadlines


def months_after(day: date, months: int) -> date:
    """The same day `months` later (the last day of a shorter month)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _due_in_months(*, start: datetime, months: int, unit: Unit | None) -> datetime:
    """The close of office on the same date `months` after `start` (local time)."""
    periods = parse_office_hours(unit.get_office_hours() if unit is not None else None)
    day = months_after(timezone.localtime(start, CHINA_TZ).date(), months)
    return datetime.combine(day, periods[-1][1], tzinfo=CHINA_TZ)


def _deadline_set(*, case: Case, due: datetime, unit: Unit | None, now: datetime) -> None:
    """Give the case's open step (just opened by an assign or a rework) a deadline in
    months instead of working days, with its reminder and escalation times, so core's
    sweeps, the workbench and the cockpit see the real deadline. Inside the caller's
    transaction, right after the transition."""
    times = step_times(
        start=now,
        due=due,
        office_hours=unit.get_office_hours() if unit is not None else None,  # type: ignore[arg-type]
    )
    provisional = times.escalate_at is not None and span_is_provisional(now, times.escalate_at)
    CaseStep.objects.filter(case=case, ended_at__isnull=True).update(
        due_at=times.due_at,
        remind_at=times.remind_at,
        escalate_at=times.escalate_at,
        sla="",
        sla_from=None,
        due_provisional=provisional,
    )
    Case.objects.filter(pk=case.pk).update(due_at=due, due_provisional=provisional)
    case.due_at, case.due_provisional = due, provisional


@contextmanager
def _case_refusal() -> Iterator[None]:
    """Core's refusal of the step itself, as this module's error (one base per domain)."""
    try:
        yield
    except CaseError as exc:
        raise SuggestionError(E.CASE, exc.message, field=exc.field) from exc


def _locked(suggestion: Suggestion) -> Suggestion:
    fresh = Suggestion.objects.select_for_update().select_related("case").get(pk=suggestion.pk)
    Case.objects.select_for_update().filter(pk=fresh.case_id).first()
    return fresh


def _state_check(suggestion: Suggestion, *states: str) -> None:
    if suggestion.case.state not in states:
        raise SuggestionError(E.STATE)


# --------------------------------------------------------------------------- drafting


@dataclass(frozen=True)
class SuggestionDraft:
    """What a deputy fills in to draft a suggestion."""

    title: str
    body: str
    category: str = ""
    session_kind: str = SessionKind.INTERIM
    cosigner_ids: Sequence[int] = ()
    opinion_numbers: Sequence[str] = ()
    publish_consent: bool = False
    # Where it came from (the case's `source`): the deputy's page, or the demo.
    source: str = "deputy"


def deputy_choices(*, exclude: Any = None) -> list[User]:
    """Every deputy with an account, by name (for picking co-signers)."""
    ids = Membership.objects.filter(role=DEPUTY.code).values_list("user_id", flat=True)
    qs = User.objects.filter(pk__in=ids, is_active=True).order_by("username")
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return list(qs)


def suggestion_draft(
    *, deputy: User, draft: SuggestionDraft, now: datetime | None = None
) -> Suggestion:
    """A deputy's new suggestion, in 草稿: its case (owned by the 代表工委, held by no
    unit while a draft), its co-signers invited, and the opinions it came from linked
    both ways (each must be a case the deputy may see). All or nothing."""
    now = now or timezone.now()
    _deputy_check(deputy)
    title, body = clean_text(draft.title), clean_text(draft.body)
    if not title:
        raise SuggestionError(E.MISSING, _("请填写建议标题。"), field="title")
    if not body:
        raise SuggestionError(E.MISSING, _("请填写建议内容。"), field="body")
    if draft.session_kind not in SessionKind.values:
        raise SuggestionError(
            E.INVALID, _("请选择提出时间（大会期间/闭会期间）。"), field="session_kind"
        )
    categories = dict(SUGGESTION.categories)
    if draft.category and draft.category not in categories:
        raise SuggestionError(E.INVALID, _("请选择建议类别。"), field="category")
    cosigner_ids = sorted({int(i) for i in draft.cosigner_ids} - {deputy.pk})
    if len(cosigner_ids) > MAX_COSIGNERS:
        raise SuggestionError(E.INVALID, _("附议代表人数过多。"), field="cosigners")
    cosigners = list(
        User.objects.filter(
            pk__in=cosigner_ids, memberships__role=DEPUTY.code, is_active=True
        ).distinct()
    )
    if len(cosigners) != len(cosigner_ids):
        raise SuggestionError(E.INVALID, _("附议人必须是人大代表。"), field="cosigners")
    numbers = sorted({n.strip() for n in draft.opinion_numbers if n.strip()})
    if len(numbers) > MAX_OPINIONS:
        raise SuggestionError(E.INVALID, _("关联的民意事项过多。"), field="opinions")
    opinions = list(
        cases_visible_to(deputy)
        .filter(number__in=numbers)
        .exclude(channel__in=(SUGGESTION.code, SUGGESTION_ASSIST.code))
        .order_by("number")
    )
    if len(opinions) != len(numbers):
        raise SuggestionError(E.OPINION, field="opinions")
    office = npc_office_unit()
    station = (
        Unit.objects.filter(memberships__user=deputy, memberships__role=DEPUTY.code)
        .select_related("area")
        .order_by("pk")
        .first()
    )
    with transaction.atomic(), _case_refusal():
        case = case_submit(
            draft=CaseDraft(
                channel=SUGGESTION.code,
                title=title,
                body=body,
                category=draft.category,
                area=station.area if station is not None else None,
                submitter=deputy,
                owner_unit=office,
                source=draft.source,
            ),
            now=now,
        )
        # A draft is the deputy's own: no unit holds it (or sees it on its workbench).
        Case.objects.filter(pk=case.pk).update(holder_unit=None)
        CaseStep.objects.filter(case=case).update(unit=None)
        case.holder_unit = None
        suggestion = Suggestion.objects.create(
            case=case,
            deputy=deputy,
            session_kind=draft.session_kind,
            year=timezone.localtime(now).year,
            publish_consent=draft.publish_consent,
            created_at=now,
        )
        Cosigner.objects.bulk_create([Cosigner(suggestion=suggestion, deputy=u) for u in cosigners])
        if opinions:
            case_links_add(
                sources=opinions,
                target=case,
                actor=deputy,
                note=str(_("代表据此提出建议")),
                now=now,
            )
    return suggestion


def suggestion_cosign(
    *, suggestion: Suggestion, deputy: User, agree: bool, now: datetime | None = None
) -> Cosigner:
    """An invited deputy confirms (附议) or declines, once, while the suggestion is a
    draft or awaiting review."""
    now = now or timezone.now()
    with transaction.atomic():
        suggestion = _locked(suggestion)
        try:
            cosigner = Cosigner.objects.select_for_update().get(
                suggestion=suggestion, deputy=deputy
            )
        except Cosigner.DoesNotExist:
            raise SuggestionError(E.FORBIDDEN) from None
        if cosigner.status != CosignStatus.INVITED:
            raise SuggestionError(E.ALREADY)
        _state_check(suggestion, wf.DRAFTED)
        cosigner.status = CosignStatus.CONFIRMED if agree else CosignStatus.DECLINED
        cosigner.responded_at = now
        cosigner.save(update_fields=["status", "responded_at"])
        timeline_append(
            case=suggestion.case,
            action="suggestion_cosign",
            actor=deputy,
            note=str(cosigner.get_status_display()),
            data={"cosign": cosigner.status},
            now=now,
        )
    return cosigner


def suggestion_cosigner_remove(*, suggestion: Suggestion, actor: User, cosigner_id: int) -> None:
    """The deputy takes back an invitation that was not answered (draft only)."""
    with transaction.atomic():
        suggestion = _locked(suggestion)
        if actor.pk != suggestion.deputy_id:
            raise SuggestionError(E.FORBIDDEN)
        _state_check(suggestion, wf.DRAFTED)
        Cosigner.objects.filter(
            suggestion=suggestion, pk=cosigner_id, status=CosignStatus.INVITED
        ).delete()


def suggestion_submit(
    *, suggestion: Suggestion, actor: User, now: datetime | None = None
) -> Suggestion:
    """The deputy sends the draft to the 代表工委, once every co-signer has answered
    (those who declined are not co-signers)."""
    now = now or timezone.now()
    with transaction.atomic():
        suggestion = _locked(suggestion)
        if actor.pk != suggestion.deputy_id:
            raise SuggestionError(E.FORBIDDEN)
        _state_check(suggestion, wf.DRAFTED)
        if suggestion.cosigners.filter(status=CosignStatus.INVITED).exists():
            raise SuggestionError(E.COSIGNERS_PENDING)
        with _case_refusal():
            transition(
                case=suggestion.case, action="submit_draft", actor=actor, now=now, via=wf.VIA
            )
    return suggestion


# --------------------------------------------------------------------------- 代表工委


def _office_check(actor: User) -> None:
    if not is_npc_office(actor):
        raise SuggestionError(E.FORBIDDEN)


def suggestion_review(
    *,
    suggestion: Suggestion,
    actor: User,
    accept: bool,
    note: str = "",
    now: datetime | None = None,
) -> Suggestion:
    """The 代表工委 accepts the suggestion as a 建议, or turns it back with a reason."""
    now = now or timezone.now()
    note = clean_text(note)
    with transaction.atomic():
        suggestion = _locked(suggestion)
        _office_check(actor)
        _state_check(suggestion, wf.SUBMITTED)
        if not accept and not note:
            raise SuggestionError(E.MISSING, _("退回时请说明理由。"), field="note")
        with _case_refusal():
            transition(
                case=suggestion.case,
                action="accept" if accept else "return",
                actor=actor,
                note=note,
                now=now,
                via=wf.VIA,
            )
    return suggestion


def suggestion_assign(
    *,
    suggestion: Suggestion,
    actor: User,
    lead: Unit | None,
    assisting: Sequence[Unit] = (),
    hard: bool = False,
    note: str = "",
    now: datetime | None = None,
) -> Suggestion:
    """Assign an accepted suggestion to a lead unit (主办) and assisting units (协办).

    The lead unit holds the case with a deadline of SUGGESTION_ANSWER_MONTHS from now
    (SUGGESTION_HARD_ANSWER_MONTHS when hard); each assisting unit owes its views by
    SUGGESTION_ASSIST_MONTHS, never later than the lead's deadline."""
    now = now or timezone.now()
    if lead is None:
        raise SuggestionError(E.NO_LEAD, field="lead")
    ids = [u.pk for u in assisting]
    if lead.pk in ids or len(set(ids)) != len(ids):
        raise SuggestionError(E.UNIT_TWICE, field="assisting")
    if len(ids) > MAX_ASSISTING:
        raise SuggestionError(E.INVALID, _("协办单位过多。"), field="assisting")
    if not lead.is_active or any(not u.is_active for u in assisting):
        raise SuggestionError(E.INVALID, _("所选单位已停用。"), field="lead")
    with transaction.atomic():
        suggestion = _locked(suggestion)
        _office_check(actor)
        _state_check(suggestion, wf.ACCEPTED)
        with _case_refusal():
            case = transition(
                case=suggestion.case,
                action="assign",
                actor=actor,
                unit=lead,
                note=note,
                data={"assisting": [u.name for u in assisting], "hard": hard},
                now=now,
                via=wf.VIA,
            )
        months = (
            settings.SUGGESTION_HARD_ANSWER_MONTHS if hard else settings.SUGGESTION_ANSWER_MONTHS
        )
        due = _due_in_months(start=now, months=months, unit=lead)
        _deadline_set(case=case, due=due, unit=lead, now=now)
        assist_due = min(
            due, _due_in_months(start=now, months=settings.SUGGESTION_ASSIST_MONTHS, unit=lead)
        )
        Assignment.objects.create(
            suggestion=suggestion,
            unit=lead,
            role=AssignmentRole.LEAD,
            assigned_at=now,
            due_at=due,
        )
        for unit in assisting:
            _assist_open(suggestion=suggestion, unit=unit, due=assist_due, now=now)
        suggestion.hard = hard
        suggestion.save(update_fields=["hard"])
    return suggestion


def _assist_open(*, suggestion: Suggestion, unit: Unit, due: datetime, now: datetime) -> Assignment:
    """An assisting unit's part: its assignment and its case (owned and held by the unit,
    due when its views are)."""
    case = suggestion.case
    with _case_refusal():
        assist = case_submit(
            draft=CaseDraft(
                channel=SUGGESTION_ASSIST.code,
                title=str(_("协办：%(title)s") % {"title": case.title}),
                body=case.body,
                category=case.category,
                area=case.area,
                owner_unit=unit,
                source="suggestion",
                data={"suggestion": case.number},
                due_at=due,
            ),
            now=now,
        )
    return Assignment.objects.create(
        suggestion=suggestion,
        unit=unit,
        role=AssignmentRole.ASSIST,
        assigned_at=now,
        due_at=due,
        case=assist,
    )


def suggestion_key_mark(
    *, suggestion: Suggestion, actor: User, leader: str, now: datetime | None = None
) -> Suggestion:
    """The 主任会议 lists the suggestion as 重点督办, followed by a named leader (recorded by
    the 代表工委). Marking it again names a different leader."""
    now = now or timezone.now()
    leader = clean_text(leader)[:100]
    if not leader:
        raise SuggestionError(E.MISSING, _("请填写督办领导。"), field="leader")
    with transaction.atomic():
        suggestion = _locked(suggestion)
        _office_check(actor)
        if suggestion.case.state in (wf.DRAFTED, wf.RETURNED, wf.WITHDRAWN):
            raise SuggestionError(E.STATE)
        suggestion.is_key, suggestion.key_leader = True, leader
        suggestion.save(update_fields=["is_key", "key_leader"])
        timeline_append(
            case=suggestion.case,
            action="suggestion_key",
            actor=actor,
            note=leader,
            data={"key_leader": leader},
            now=now,
        )
    return suggestion


# --------------------------------------------------------------------------- units


def suggestion_views_send(
    *, suggestion: Suggestion, actor: User, unit: Unit, views: str, now: datetime | None = None
) -> Assignment:
    """An assisting unit sends its views to the lead unit (once)."""
    now = now or timezone.now()
    views = clean_text(views)
    if not views:
        raise SuggestionError(E.MISSING, _("请填写协办意见。"), field="views")
    with transaction.atomic():
        suggestion = _locked(suggestion)
        if not _member_of(actor, unit.pk):
            raise SuggestionError(E.FORBIDDEN)
        try:
            assignment = Assignment.objects.select_for_update().get(
                suggestion=suggestion, unit=unit, role=AssignmentRole.ASSIST
            )
        except Assignment.DoesNotExist:
            raise SuggestionError(E.FORBIDDEN) from None
        _state_check(suggestion, wf.HANDLING, wf.REHANDLING)
        if assignment.views_sent_at is not None:
            raise SuggestionError(E.ALREADY)
        assignment.views, assignment.views_sent_at = views, now
        assignment.save(update_fields=["views", "views_sent_at"])
        if assignment.case_id is not None:
            with _case_refusal():
                transition(
                    case=Case.objects.get(pk=assignment.case_id),
                    action="send_views",
                    actor=actor,
                    note=views,
                    now=now,
                    via=wf.VIA,
                )
        timeline_append(
            case=suggestion.case,
            action="suggestion_views",
            actor=actor,
            unit=unit,
            note=views,
            data={"on_time": now <= assignment.due_at},
            now=now,
        )
    return assignment


def _lead(suggestion: Suggestion) -> Assignment:
    lead = suggestion.assignments.select_related("unit").filter(role=AssignmentRole.LEAD).first()
    if lead is None:
        raise SuggestionError(E.STATE)
    return lead


def suggestion_contact_record(
    *,
    suggestion: Suggestion,
    actor: User,
    method: str,
    contacted_on: date,
    note: str,
    now: datetime | None = None,
) -> Contact:
    """The lead unit records a contact (沟通) with the deputy: how, when, what was said."""
    now = now or timezone.now()
    note = clean_text(note)
    if method not in ContactMethod.values:
        raise SuggestionError(E.MISSING, _("请选择沟通方式。"), field="method")
    if not note:
        raise SuggestionError(E.MISSING, _("请填写沟通情况。"), field="note")
    if contacted_on > timezone.localdate(now):
        raise SuggestionError(E.INVALID, _("沟通日期不能晚于今天。"), field="contacted_on")
    with transaction.atomic():
        suggestion = _locked(suggestion)
        lead = _lead(suggestion)
        if not _member_of(actor, lead.unit_id):
            raise SuggestionError(E.FORBIDDEN)
        _state_check(suggestion, wf.HANDLING, wf.REHANDLING)
        contact = Contact.objects.create(
            suggestion=suggestion,
            unit=lead.unit,
            actor=actor,
            method=method,
            contacted_on=contacted_on,
            note=note,
            created_at=now,
        )
        timeline_append(
            case=suggestion.case,
            action="suggestion_contact",
            actor=actor,
            unit=lead.unit,
            note=f"{contact.get_method_display()} {contacted_on:%Y-%m-%d}：{note}",
            now=now,
        )
    return contact


def suggestion_answer(
    *,
    suggestion: Suggestion,
    actor: User,
    category: str,
    text: str,
    attachments: Sequence[Attachment] = (),
    now: datetime | None = None,
) -> Answer:
    """The lead unit answers in writing with a category (A/B/C), after contacting the
    deputy in this round and, in the first round, once every assisting unit has sent its
    views. `attachments` (the answer letter, checked by content by the caller through
    core.attachments) are kept on the answer's timeline entry, in its hash."""
    now = now or timezone.now()
    text = clean_text(text)
    if category not in AnswerCategory.values:
        raise SuggestionError(E.NO_CATEGORY, field="category")
    if not text:
        raise SuggestionError(E.MISSING, _("请填写答复内容。"), field="text")
    with transaction.atomic():
        suggestion = _locked(suggestion)
        lead = _lead(suggestion)
        if not _member_of(actor, lead.unit_id):
            raise SuggestionError(E.FORBIDDEN)
        _state_check(suggestion, wf.HANDLING, wf.REHANDLING)
        round_start = lead.assigned_at
        if suggestion.handling_round > 1:
            last = suggestion.evaluations.order_by("-round").first()
            round_start = last.created_at if last is not None else round_start
        if not suggestion.contacts.filter(created_at__gte=round_start).exists():
            raise SuggestionError(E.NO_CONTACT)
        if suggestion.assignments.filter(
            role=AssignmentRole.ASSIST, views_sent_at__isnull=True
        ).exists():
            raise SuggestionError(E.VIEWS_PENDING)
        due = suggestion.case.due_at or lead.due_at
        with _case_refusal():
            transition(
                case=suggestion.case,
                action="answer",
                actor=actor,
                note=text,
                attachments=attachments,
                data={"category": category, "round": suggestion.handling_round},
                now=now,
                via=wf.VIA,
            )
        answer = Answer.objects.create(
            suggestion=suggestion,
            round=suggestion.handling_round,
            unit=lead.unit,
            category=category,
            text=text,
            due_at=due,
            answered_at=now,
            on_time=now <= due,
        )
        suggestion.category = category
        suggestion.save(update_fields=["category"])
    return answer


# --------------------------------------------------------------------------- the deputy


def suggestion_evaluate(
    *,
    suggestion: Suggestion,
    actor: User,
    rating: str,
    comment: str = "",
    now: datetime | None = None,
) -> Evaluation:
    """The deputy who raised the suggestion evaluates the answer. 满意/基本满意 close it;
    不满意 (with a reason) sends it back to the lead unit once, for a second handling due
    SUGGESTION_SECOND_ANSWER_MONTHS later; a second 不满意 is recorded and closes it."""
    now = now or timezone.now()
    comment = clean_text(comment)
    if rating not in Rating.values:
        raise SuggestionError(E.MISSING, _("请选择评价（满意/基本满意/不满意）。"), field="rating")
    with transaction.atomic():
        suggestion = _locked(suggestion)
        if actor.pk != suggestion.deputy_id:
            raise SuggestionError(E.FORBIDDEN, _("只有领衔代表可以评价答复。"))
        _state_check(suggestion, wf.ANSWERED)
        case = suggestion.case
        again = rating == Rating.UNSATISFIED and suggestion.handling_round == 1
        if again and not comment:
            raise SuggestionError(E.MISSING, _("请说明不满意的原因。"), field="comment")
        evaluation = Evaluation.objects.create(
            suggestion=suggestion,
            round=suggestion.handling_round,
            rating=rating,
            comment=comment,
            created_at=now,
        )
        with _case_refusal():
            if again:
                case = transition(
                    case=case, action="rehandle", actor=actor, note=comment, now=now, via=wf.VIA
                )
            else:
                case = transition(
                    case=case,
                    action="evaluate",
                    actor=actor,
                    rating=rating,
                    note=comment,
                    data={"rating": rating},
                    now=now,
                    via=wf.VIA,
                )
        Case.objects.filter(pk=case.pk).update(rating=rating, rating_comment=comment)
        if again:
            lead = _lead(suggestion)
            due = _due_in_months(
                start=now, months=settings.SUGGESTION_SECOND_ANSWER_MONTHS, unit=lead.unit
            )
            _deadline_set(case=case, due=due, unit=lead.unit, now=now)
            Assignment.objects.filter(pk=lead.pk).update(due_at=due)
            suggestion.handling_round = 2
            suggestion.save(update_fields=["handling_round"])
    return evaluation


def suggestion_publish_consent_set(*, suggestion: Suggestion, actor: User, consent: bool) -> None:
    """The deputy agrees (or no longer agrees) that the answer is published."""
    if actor.pk != suggestion.deputy_id:
        raise SuggestionError(E.FORBIDDEN)
    Suggestion.objects.filter(pk=suggestion.pk).update(publish_consent=consent)
    suggestion.publish_consent = consent


def suggestion_withdraw(
    *, suggestion: Suggestion, actor: User, now: datetime | None = None
) -> None:
    """The deputy withdraws a draft or a suggestion not yet reviewed."""
    now = now or timezone.now()
    with transaction.atomic():
        suggestion = _locked(suggestion)
        if actor.pk != suggestion.deputy_id:
            raise SuggestionError(E.FORBIDDEN)
        _state_check(suggestion, wf.DRAFTED, wf.SUBMITTED)
        with _case_refusal():
            transition(case=suggestion.case, action="withdraw", actor=actor, now=now)
