"""Writes of 督政议事: topics, meetings and their participants, questions (each opens a
core case the department answers), minutes with their files, the deputies'
satisfaction vote, follow-up cases and the public summary.

Every service takes the acting user, checks what they may do (`check_*`), and changes
state in one transaction; core's case services do the case side (deadlines, timeline,
notifications through the outbox)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.core.accounts.models import User
from civicloop.core.attachments.errors import AttachmentError
from civicloop.core.attachments.services import WITH_DOCUMENTS, attachments_create_batch
from civicloop.core.cases.errors import CaseError
from civicloop.core.cases.links import case_links_add
from civicloop.core.cases.models import Case, Rating
from civicloop.core.cases.services import CaseDraft, case_submit, clean_text, transition
from civicloop.core.outbox.services import OutboxDraft, outbox_enqueue_many
from civicloop.core.units.models import Membership, Unit
from civicloop.oversight.access import ANSWERING_KINDS, DEPUTY_ROLE, role_for
from civicloop.oversight.errors import OversightError, OversightErrorCode
from civicloop.oversight.hooks import FOLLOW_UP, QUESTION
from civicloop.oversight.models import (
    FollowUp,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Participant,
    ParticipantKind,
    ProposerKind,
    Question,
    Topic,
    TopicState,
    Vote,
)
from civicloop.oversight.selectors import department_results
from civicloop.oversight.workflow import ANSWERED, RATED, VIA

TITLE_MAX = 200
TEXT_MAX = 4000
MINUTES_MAX = 20000
# An answer or follow-up date means the end of that office day (Wenling's offices close
# at 17:30; see core.units.models.DEFAULT_OFFICE_HOURS).
DAY_ENDS_AT = time(17, 30)


# --------------------------------------------------------------------------- checks


def check_staff(actor: User) -> None:
    """The 代表工委's staff (or an administrator), else FORBIDDEN."""
    if not role_for(actor).staff:
        raise OversightError(OversightErrorCode.FORBIDDEN)


def _text(value: str, *, field: str, max_chars: int, required: bool = True) -> str:
    text = clean_text(value or "")
    if required and not text:
        raise OversightError(OversightErrorCode.MISSING, field=field)
    if len(text) > max_chars:
        raise OversightError(
            OversightErrorCode.INVALID,
            _("内容最多 %(max)d 字。"),
            field=field,
            max=max_chars,
        )
    return text


def _locked(meeting: Meeting) -> Meeting:
    """The meeting row, locked for the rest of the transaction (votes and closing the
    vote are serialised on it)."""
    return Meeting.objects.select_for_update().get(pk=meeting.pk)


def _not_closed(meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.CLOSED:
        raise OversightError(OversightErrorCode.WRONG_STATE, _("会议测评已结束，不能再修改。"))


def day_end(day: date) -> datetime:
    """The end of the office day `day`, as an aware local time."""
    return timezone.make_aware(datetime.combine(day, DAY_ENDS_AT))


def _due(day: date | None, *, now: datetime, field: str) -> datetime | None:
    """The end of office day `day`; None (the workflow's own deadline) without one."""
    if day is None:
        return None
    if day < timezone.localdate(now):
        raise OversightError(OversightErrorCode.INVALID, _("期限不能早于今天。"), field=field)
    return day_end(day)


# --------------------------------------------------------------------------- topics


def topic_propose(
    *, actor: User, title: str, description: str, now: datetime | None = None
) -> Topic:
    """A deputy, or the standing committee's staff, proposes a topic (待审议)."""
    role = role_for(actor)
    if not (role.staff or role.deputy):
        raise OversightError(OversightErrorCode.FORBIDDEN)
    return Topic.objects.create(
        title=_text(title, field="title", max_chars=TITLE_MAX),
        description=_text(description, field="description", max_chars=TEXT_MAX),
        proposer_kind=ProposerKind.COMMITTEE if role.staff else ProposerKind.DEPUTY,
        proposed_by=actor,
        created_at=now or timezone.now(),
    )


def topic_decide(
    *, actor: User, topic: Topic, accept: bool, note: str = "", now: datetime | None = None
) -> Topic:
    """The 代表工委 accepts a proposed topic, or turns it down with a reason."""
    check_staff(actor)
    note = _text(note, field="note", max_chars=TEXT_MAX, required=not accept)
    with transaction.atomic():
        topic = Topic.objects.select_for_update().get(pk=topic.pk)
        if topic.state != TopicState.PROPOSED:
            raise OversightError(OversightErrorCode.WRONG_STATE, _("该议题已审议过。"))
        topic.state = TopicState.ACCEPTED if accept else TopicState.REJECTED
        topic.decision_note = note
        topic.decided_by = actor
        topic.decided_at = now or timezone.now()
        topic.save(update_fields=["state", "decision_note", "decided_by", "decided_at"])
    return topic


# --------------------------------------------------------------------------- meetings


def meeting_create(
    *,
    actor: User,
    topic: Topic,
    kind: str,
    title: str,
    held_at: datetime,
    place: str,
    now: datetime | None = None,
) -> Meeting:
    """A meeting (议事会 or 专题询问) on an accepted topic, in preparation."""
    check_staff(actor)
    if topic.state != TopicState.ACCEPTED:
        raise OversightError(
            OversightErrorCode.WRONG_STATE, _("只能就已采纳的议题召开会议。"), field="topic"
        )
    if kind not in MeetingKind.values:
        raise OversightError(OversightErrorCode.INVALID, _("请选择会议形式。"), field="kind")
    if held_at is None:
        raise OversightError(OversightErrorCode.MISSING, field="held_at")
    return Meeting.objects.create(
        topic=topic,
        kind=kind,
        title=_text(title, field="title", max_chars=TITLE_MAX),
        held_at=held_at,
        place=_text(place, field="place", max_chars=200),
        created_by=actor,
        created_at=now or timezone.now(),
    )


def _is_deputy(user: User) -> bool:
    return Membership.objects.filter(user=user, role=DEPUTY_ROLE, unit__is_active=True).exists()


def participant_add_deputy(*, actor: User, meeting: Meeting, deputy: User) -> Participant:
    """Seat a deputy at the meeting (once; a second add returns the seat)."""
    check_staff(actor)
    _not_closed(meeting)
    if not _is_deputy(deputy):
        raise OversightError(OversightErrorCode.INVALID, _("该账号不是人大代表。"), field="deputy")
    seat, _created = Participant.objects.get_or_create(
        meeting=meeting, user=deputy, defaults={"kind": ParticipantKind.DEPUTY}
    )
    return seat


def participant_add_department(
    *, actor: User, meeting: Meeting, unit: Unit, representative: str = ""
) -> Participant:
    """Seat a department (or town office) at the meeting, with the office of whoever
    answers for it."""
    check_staff(actor)
    _not_closed(meeting)
    return _department_seat(meeting=meeting, unit=unit, representative=representative)


def _department_seat(*, meeting: Meeting, unit: Unit, representative: str = "") -> Participant:
    if unit.kind not in ANSWERING_KINDS or not unit.is_active:
        raise OversightError(
            OversightErrorCode.INVALID, _("请选择市级部门或镇（街道）。"), field="unit"
        )
    representative = _text(representative, field="representative", max_chars=100, required=False)
    seat, created = Participant.objects.get_or_create(
        meeting=meeting,
        unit=unit,
        defaults={"kind": ParticipantKind.DEPARTMENT, "representative": representative},
    )
    if not created and representative and seat.representative != representative:
        seat.representative = representative
        seat.save(update_fields=["representative"])
    return seat


def question_ask(
    *,
    actor: User,
    meeting: Meeting,
    asked_by: User,
    unit: Unit,
    text: str,
    answer_by: date | None = None,
    now: datetime | None = None,
) -> Question:
    """Record a question a participating deputy put to a department. It opens a case on
    the question channel, owned and held by the department, due at the end of
    `answer_by` (or in the workflow's 15 working days). Staff record any deputy's
    question; a deputy records their own. The department is seated if it was not."""
    role = role_for(actor)
    if not role.staff and not (role.deputy and asked_by.pk == actor.pk):
        raise OversightError(OversightErrorCode.FORBIDDEN)
    now = now or timezone.now()
    body = _text(text, field="text", max_chars=TEXT_MAX)
    with transaction.atomic():
        meeting = _locked(meeting)
        _not_closed(meeting)
        if not Participant.objects.filter(
            meeting=meeting, kind=ParticipantKind.DEPUTY, user=asked_by
        ).exists():
            raise OversightError(
                OversightErrorCode.NOT_PARTICIPANT,
                _("提问的代表没有参加本次会议。"),
                field="asked_by",
            )
        if role.staff:
            _department_seat(meeting=meeting, unit=unit)
        elif not Participant.objects.filter(meeting=meeting, unit=unit).exists():
            raise OversightError(
                OversightErrorCode.NOT_PARTICIPANT, _("该部门没有参加本次会议。"), field="unit"
            )
        due = _due(answer_by, now=now, field="answer_by")
        try:
            case = case_submit(
                draft=CaseDraft(
                    channel=QUESTION.code,
                    title=f"{meeting.title}：{unit.name}"[:TITLE_MAX],
                    body=body,
                    area=unit.area,
                    owner_unit=unit,
                    submitter=asked_by,
                    source="oversight",
                    data={"oversight_meeting": meeting.pk},
                    due_at=due,
                ),
                now=now,
            )
        except CaseError as refused:
            raise OversightError(OversightErrorCode.CASE, refused.message) from None
        return Question.objects.create(
            meeting=meeting, asked_by=asked_by, unit=unit, text=body, case=case, created_at=now
        )


def minutes_save(
    *,
    actor: User,
    meeting: Meeting,
    minutes: str,
    summary: str = "",
    uploads: Sequence[UploadedFile] = (),
) -> Meeting:
    """Save the minutes and the public summary text, and add minute files: documents
    (PDF, Word, Excel, text) or photos, each checked by its content (a file whose
    content is not what its name says, or too large, is refused and nothing is saved)."""
    check_staff(actor)
    minutes = _text(minutes, field="minutes", max_chars=MINUTES_MAX, required=False)
    summary = _text(summary, field="summary", max_chars=TEXT_MAX, required=False)
    try:
        files = attachments_create_batch(
            uploads=uploads, uploaded_by=actor, allowed_kinds=WITH_DOCUMENTS
        )
    except AttachmentError as refused:
        raise OversightError(OversightErrorCode.FILE, refused.message, field="files") from None
    with transaction.atomic():
        meeting = _locked(meeting)
        meeting.minutes = minutes
        meeting.summary = summary
        meeting.save(update_fields=["minutes", "summary"])
        if files:
            meeting.minute_files.add(*files)
    return meeting


# --------------------------------------------------------------------------- the vote


def voting_open(*, actor: User, meeting: Meeting) -> Meeting:
    """Open the deputies' satisfaction vote on the departments' answers."""
    check_staff(actor)
    with transaction.atomic():
        meeting = _locked(meeting)
        if meeting.status != MeetingStatus.PLANNED:
            raise OversightError(OversightErrorCode.WRONG_STATE)
        if not meeting.questions.exists():
            raise OversightError(OversightErrorCode.WRONG_STATE, _("会议还没有向部门提出的问题。"))
        meeting.status = MeetingStatus.VOTING
        meeting.save(update_fields=["status"])
        outbox_enqueue_many(drafts=_vote_open_notices(meeting))
    return meeting


def _vote_open_notices(meeting: Meeting) -> list[OutboxDraft]:
    """A DingTalk work notice to the seated deputies that the vote is open (written in
    the transaction that opens it, sent by the outbox; once per meeting)."""
    userids = sorted(
        set(
            Participant.objects.filter(meeting=meeting, kind=ParticipantKind.DEPUTY)
            .exclude(user__dingtalk_userid="")
            .values_list("user__dingtalk_userid", flat=True)
        )
    )
    if not userids:
        return []
    link = f"{settings.SITE_URL}/oversight/meetings/{meeting.pk}/"
    payload = {
        "userids": userids,
        "title": "督政议事满意度测评",
        "text": f"**{meeting.title}**\n\n部门答复已陆续提交，请对部门答复进行满意度测评：{link}",
    }
    return [
        OutboxDraft(
            "dingtalk_work", payload, f"oversight:{meeting.pk}:vote_open", f"oversight-{meeting.pk}"
        )
    ]


def _unit_answered(meeting: Meeting, unit_id: int) -> bool:
    states = set(
        Question.objects.filter(meeting=meeting, unit_id=unit_id).values_list(
            "case__state", flat=True
        )
    )
    return bool(states) and states <= {ANSWERED, RATED}


def vote_cast(
    *, actor: User, meeting: Meeting, unit: Unit, choice: str, now: datetime | None = None
) -> Vote:
    """A participating deputy rates one department's answers: 满意 / 基本满意 / 不满意,
    once (a second vote is refused, whatever it says), while the vote is open and only
    when all of that department's questions are answered."""
    if choice not in Rating.values:
        raise OversightError(
            OversightErrorCode.INVALID, _("请选择满意、基本满意或不满意。"), field="choice"
        )
    with transaction.atomic():
        meeting = _locked(meeting)
        if not Participant.objects.filter(
            meeting=meeting, kind=ParticipantKind.DEPUTY, user=actor
        ).exists():
            raise OversightError(OversightErrorCode.NOT_PARTICIPANT)
        if meeting.status != MeetingStatus.VOTING:
            raise OversightError(OversightErrorCode.WRONG_STATE, _("满意度测评未开始或已结束。"))
        if not _unit_answered(meeting, unit.pk):
            raise OversightError(OversightErrorCode.NOT_ANSWERED)
        if Vote.objects.filter(meeting=meeting, unit=unit, voter=actor).exists():
            raise OversightError(OversightErrorCode.ALREADY_VOTED)
        try:
            with transaction.atomic():
                return Vote.objects.create(
                    meeting=meeting,
                    unit=unit,
                    voter=actor,
                    choice=choice,
                    created_at=now or timezone.now(),
                )
        except IntegrityError:
            raise OversightError(OversightErrorCode.ALREADY_VOTED) from None


def voting_close(*, actor: User, meeting: Meeting, now: datetime | None = None) -> Meeting:
    """Close the vote: every question must be answered and every department rated by at
    least one deputy. Each department's outcome (see selectors.department_results) is
    recorded on each of its answer cases (core's rate action, by the platform)."""
    check_staff(actor)
    now = now or timezone.now()
    with transaction.atomic():
        meeting = _locked(meeting)
        if meeting.status != MeetingStatus.VOTING:
            raise OversightError(OversightErrorCode.WRONG_STATE, _("满意度测评未开始或已结束。"))
        results = department_results(meeting=meeting)
        for result in results:
            if not result.answered:
                raise OversightError(
                    OversightErrorCode.NOT_ANSWERED,
                    _("%(unit)s的问题尚未全部答复。"),
                    unit=result.unit.name,
                )
            if result.total == 0:
                raise OversightError(
                    OversightErrorCode.NO_VOTES,
                    _("%(unit)s的答复还没有代表测评。"),
                    unit=result.unit.name,
                )
        cases = Case.objects.filter(
            pk__in=Question.objects.filter(meeting=meeting).values("case_id"), state=ANSWERED
        ).order_by("pk")
        by_unit = {r.unit.pk: r for r in results}
        for case in cases:
            result = by_unit[case.owner_unit_id or 0]
            transition(
                case=case,
                action="rate",
                actor=None,
                rating=result.outcome,
                note=str(result.summary_line),
                data={"votes": result.counts()},
                via=VIA,
                now=now,
            )
        meeting.status = MeetingStatus.CLOSED
        meeting.save(update_fields=["status"])
    return meeting


# --------------------------------------------------------------------------- follow-ups


def follow_up_create(
    *,
    actor: User,
    meeting: Meeting,
    unit: Unit,
    decision: str,
    due_date: date | None,
    sources: Sequence[Question] = (),
    now: datetime | None = None,
) -> FollowUp:
    """A decision of the meeting followed up: a case on the follow-up channel held by the
    responsible unit, due at the end of `due_date`, linked "came from" the answer cases
    of the questions it follows (all of the meeting's when none are named)."""
    check_staff(actor)
    now = now or timezone.now()
    text = _text(decision, field="decision", max_chars=TEXT_MAX)
    if unit.kind not in ANSWERING_KINDS or not unit.is_active:
        raise OversightError(
            OversightErrorCode.INVALID, _("请选择市级部门或镇（街道）。"), field="unit"
        )
    if due_date is None:
        raise OversightError(OversightErrorCode.MISSING, _("请填写落实期限。"), field="due_date")
    due = _due(due_date, now=now, field="due_date")
    with transaction.atomic():
        meeting = _locked(meeting)
        questions = list(sources) or list(meeting.questions.select_related("case"))
        if not questions:
            raise OversightError(OversightErrorCode.WRONG_STATE, _("会议还没有向部门提出的问题。"))
        if any(q.meeting_id != meeting.pk for q in questions):
            raise OversightError(OversightErrorCode.INVALID, field="sources")
        try:
            case = case_submit(
                draft=CaseDraft(
                    channel=FOLLOW_UP.code,
                    title=f"{meeting.title}：跟踪督办"[:TITLE_MAX],
                    body=text,
                    area=unit.area,
                    owner_unit=unit,
                    source="oversight",
                    data={"oversight_meeting": meeting.pk},
                    due_at=due,
                ),
                now=now,
            )
        except CaseError as refused:
            raise OversightError(OversightErrorCode.CASE, refused.message) from None
        case_links_add(
            sources=[q.case for q in questions],
            target=case,
            actor=actor,
            note=str(_("会议决定跟踪督办")),
            now=now,
        )
        return FollowUp.objects.create(
            meeting=meeting, unit=unit, decision=text, case=case, created_at=now
        )


# --------------------------------------------------------------------------- publication


def meeting_publish(*, actor: User, meeting: Meeting, now: datetime | None = None) -> Meeting:
    """Publish the meeting's public summary (topic, questions, answers, vote results; no
    names). Only after the vote is closed."""
    check_staff(actor)
    with transaction.atomic():
        meeting = _locked(meeting)
        if meeting.status != MeetingStatus.CLOSED:
            raise OversightError(OversightErrorCode.WRONG_STATE, _("满意度测评结束后才能公开。"))
        if meeting.published_at is None:
            meeting.published_at = now or timezone.now()
            meeting.save(update_fields=["published_at"])
    return meeting


def meeting_unpublish(*, actor: User, meeting: Meeting) -> Meeting:
    """Withdraw the public summary."""
    check_staff(actor)
    Meeting.objects.filter(pk=meeting.pk).update(published_at=None)
    meeting.published_at = None
    return meeting
