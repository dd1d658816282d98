"""What changes state in the studios module: consultation threads (open, message, reply,
invite, pass to a unit, the unit's result, rate), 社情民意 reports (draft, edit, adopt,
批示) and the 民生议事堂 opinion round.

Every thread step is a core transition (timeline, deadline, sweep) plus a Message row
here, in one transaction; notifications go through the outbox."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from civicloop.core.accounts.models import User
from civicloop.core.accounts.roles import Role
from civicloop.core.accounts.services import citizen_for_phone
from civicloop.core.attachments.models import Attachment
from civicloop.core.attachments.services import attachments_create_batch
from civicloop.core.cases.links import case_links_add
from civicloop.core.cases.models import Case
from civicloop.core.cases.services import CaseDraft, case_submit, timeline_append, transition
from civicloop.core.outbox.services import OutboxDraft, outbox_enqueue_many
from civicloop.core.sla.policy import SLA, due_at
from civicloop.core.units.models import Membership, Unit
from civicloop.studios import workflow as wf
from civicloop.studios.errors import StudioError, StudioErrorCode
from civicloop.studios.models import (
    Adoption,
    Instruction,
    Level,
    Member,
    Message,
    Participant,
    ParticipantKind,
    Recommendation,
    Report,
    ReportStatus,
    Session,
    Side,
    Statement,
    Studio,
    TallyRules,
    Thread,
    Vote,
)
from civicloop.studios.selectors import (
    is_cppcc_office,
    is_studio_head,
    member_of,
    thread_party,
)

VIA = wf.VIA
MESSAGE_MAX_CHARS = 2000


# --------------------------------------------------------------------------- studios, members

REPLY_DAYS_MAX = 15
FIELDS_MAX = 8


def _studio_manager_check(*, user: User, studio: Studio) -> None:
    if not (is_cppcc_office(user=user) or is_studio_head(user=user, studio=studio)):
        raise StudioError(StudioErrorCode.FORBIDDEN)


def studio_update(
    *,
    studio: Studio,
    user: User,
    address: str,
    office_hours: str,
    fields: list[str],
    reply_days: int | str,
    rota: list[tuple[int, int]],
    head_id: int | None = None,
) -> Studio:
    """The studio's facts, its duty rota ((weekday 1-7, member id) pairs of its own active
    members) and first-reply deadline: the office or the studio's head. Only the office
    names the head; the head then holds the studio unit's leader role, which is who the
    core's sweep tells first when a first reply is late (then the CPPCC office, the
    studio unit's supervisor)."""
    _studio_manager_check(user=user, studio=studio)
    days = str(reply_days).strip()
    if not days.isdigit() or not 1 <= int(days) <= REPLY_DAYS_MAX:
        raise StudioError(
            StudioErrorCode.RULES, field="reply_days", label="首次答复时限", limit=REPLY_DAYS_MAX
        )
    members = set(studio.members.filter(is_active=True).values_list("pk", flat=True))
    clean_rota = sorted({(d, m) for d, m in rota if 1 <= d <= 7 and m in members})
    if len(clean_rota) != len(set(rota)):
        raise StudioError(StudioErrorCode.MEMBER, field="rota")
    with transaction.atomic():
        studio = Studio.objects.select_for_update().get(pk=studio.pk)
        studio.address = address.strip()[:200]
        studio.office_hours = office_hours.strip()[:200]
        studio.fields = [f.strip()[:20] for f in fields if f.strip()][:FIELDS_MAX]
        studio.reply_days = int(days)
        studio.rota = [{"weekday": d, "member": m} for d, m in clean_rota]
        update = ["address", "office_hours", "fields", "reply_days", "rota"]
        if head_id != studio.head_id and is_cppcc_office(user=user):
            if head_id is not None and head_id not in members:
                raise StudioError(StudioErrorCode.MEMBER, field="head")
            _head_role_move(studio=studio, head_id=head_id)
            studio.head_id = head_id
            update.append("head")
        studio.save(update_fields=update)
    return studio


def _head_role_move(*, studio: Studio, head_id: int | None) -> None:
    """The leader role in the studio's unit goes with the headship."""
    old = studio.head.user_id if studio.head is not None else None
    new = (
        Member.objects.filter(pk=head_id).values_list("user_id", flat=True).first()
        if head_id is not None
        else None
    )
    if old is not None and old != new:
        Membership.objects.filter(user_id=old, unit=studio.unit, role=Role.UNIT_LEADER).delete()
    if new is not None:
        Membership.objects.get_or_create(user_id=new, unit=studio.unit, role=Role.UNIT_LEADER)


def member_save(
    *,
    studio: Studio,
    user: User,
    member: Member | None = None,
    name: str,
    sector: str,
    standing: bool,
    profile: str,
    is_active: bool = True,
    photo: UploadedFile | None = None,
) -> Member:
    """Add a member to the studio or change one (the office only). A photo is checked by
    its content and re-encoded without EXIF/GPS like every upload; it is public, on the
    studio's page. Contact data is not kept here: a member's phone is their account's."""
    _office_check(user)
    if not name.strip() or not sector.strip():
        raise StudioError(StudioErrorCode.MISSING, field="name" if not name.strip() else "sector")
    if member is not None and member.studio_id != studio.pk:
        raise StudioError(StudioErrorCode.MEMBER)
    with transaction.atomic():
        stored = (
            attachments_create_batch(
                uploads=[photo], uploaded_by=user, allowed_kinds=frozenset({Attachment.Kind.PHOTO})
            )
            if photo is not None
            else []
        )
        member = member or Member(studio=studio)
        member.name = name.strip()[:50]
        member.sector = sector.strip()[:50]
        member.standing = standing
        member.profile = profile.strip()[:500]
        member.is_active = is_active
        if stored:
            member.photo = stored[0]
        member.save()
        if not is_active and studio.head_id == member.pk:
            _head_role_move(studio=studio, head_id=None)
            Studio.objects.filter(pk=studio.pk).update(head=None)
        if not is_active:
            kept = [r for r in studio.rota or [] if r.get("member") != member.pk]
            Studio.objects.filter(pk=studio.pk).update(rota=kept)
    return member


# --------------------------------------------------------------------------- threads


def _reply_due(studio: Studio, start: datetime) -> datetime:
    return due_at(start=start, sla=SLA(studio.reply_days, "workday"))


def _studio_by_id(raw: str) -> Studio:
    try:
        return Studio.objects.select_related("unit", "town").get(pk=int(raw), is_active=True)
    except (ValueError, TypeError, Studio.DoesNotExist):
        raise StudioError(StudioErrorCode.STUDIO_INVALID, field="studio") from None


def consultation_draft_prepare(draft: CaseDraft, attributes: dict[str, str]) -> CaseDraft:
    """Open311's hook: the `studio` attribute names the studio that receives the thread;
    the citizen's phone makes (or finds) their account, so they are a party to it."""
    studio = _studio_by_id(attributes.get("studio", ""))
    submitter = citizen_for_phone(phone=draft.contact_phone) if draft.contact_phone else None
    return dataclasses.replace(
        draft,
        title=draft.title or draft.body[:30],
        owner_unit=studio.unit,
        area=draft.area or studio.town,
        submitter=submitter,
        due_at=_reply_due(studio, timezone.now()),
        data={**draft.data, "studio_id": studio.pk},
    )


def thread_for_case(*, case: Case) -> Thread:
    """The thread of a consultation case, made on first need (a case opened by Open311
    has no thread until something reads or writes it)."""
    thread = Thread.objects.filter(case=case).first()
    if thread is not None:
        return thread
    studio = Studio.objects.get(pk=case.data["studio_id"])
    member_id = case.data.get("member_id")
    with transaction.atomic():
        thread, _created = Thread.objects.get_or_create(
            case=case, defaults={"studio": studio, "member_id": member_id}
        )
        if _created:
            Message.objects.create(thread=thread, side=Side.CITIZEN, text=case.body)
    return thread


def thread_open(
    *,
    studio: Studio,
    phone: str,
    text: str,
    member: Member | None = None,
    anonymous: bool = False,
    attachments: list[Attachment] | None = None,
    submission_key: str | None = None,
    now: datetime | None = None,
) -> Thread:
    """Open a thread to a studio (or one of its members) for a citizen whose phone was
    verified by SMS code. A second tap with the same key returns the same thread."""
    text = text.strip()
    if not text and not attachments:
        raise StudioError(StudioErrorCode.MISSING, field="text")
    if member is not None and member.studio_id != studio.pk:
        raise StudioError(StudioErrorCode.STUDIO, field="member")
    now = now or timezone.now()
    data: dict[str, Any] = {"studio_id": studio.pk}
    if member is not None:
        data.update(member_id=member.pk, member_name=member.name)
    with transaction.atomic():
        case = case_submit(
            draft=CaseDraft(
                channel="consultation",
                title=text[:30] or str(studio.name),
                body=text[:MESSAGE_MAX_CHARS],
                area=studio.town,
                contact_phone=phone,
                anonymous=anonymous,
                submitter=citizen_for_phone(phone=phone),
                owner_unit=studio.unit,
                attachments=attachments or (),
                submission_key=submission_key,
                source="web",
                data=data,
                due_at=_reply_due(studio, now),
            ),
            now=now,
        )
        thread = thread_for_case(case=case)
        if attachments:
            first = thread.messages.order_by("pk").first()
            assert first is not None
            first.attachments.set(attachments)
    # Core tells the studio's members of the new case (DingTalk) and the citizen (receipt).
    return thread


def _notify_member(*, thread: Thread, text: str) -> None:
    member = thread.member
    userids: list[str] = []
    if member is not None and member.user is not None and member.user.dingtalk_userid:
        userids = [member.user.dingtalk_userid]
    else:
        from civicloop.core.units.selectors import unit_staff_dingtalk_ids

        userids = unit_staff_dingtalk_ids(unit=thread.studio.unit)
    if not userids:
        return
    count = thread.messages.count()
    payload = {
        "userids": userids,
        "title": f"协商在线 {thread.case.number}",
        "text": text[:200],
    }
    outbox_enqueue_many(
        drafts=[
            OutboxDraft(
                "dingtalk_work", payload, f"{thread.case.number}:msg{count}:dt", thread.case.number
            )
        ]
    )


def _notify_citizen(*, thread: Thread) -> None:
    case = thread.case
    if not case.contact_phone:
        return
    count = thread.messages.count()
    payload = {
        "phone": case.contact_phone,
        "template": "consultation_reply",
        "params": {"number": case.number, "token": thread.token},
    }
    outbox_enqueue_many(
        drafts=[OutboxDraft("sms", payload, f"{case.number}:msg{count}:sms", case.number)]
    )


def _message_add(
    *,
    thread: Thread,
    side: str,
    author: User | None,
    text: str,
    key: str | None,
    attachments: list[Attachment] | None = None,
) -> tuple[Message, bool]:
    """Add one message; a repeated `key` (a second tap) returns the first one."""
    if key:
        existing = Message.objects.filter(key=key, thread=thread).first()
        if existing is not None:
            return existing, False
    text = text.strip()[:MESSAGE_MAX_CHARS]
    if not text and not attachments:
        raise StudioError(StudioErrorCode.MISSING, field="text")
    try:
        with transaction.atomic():
            message = Message.objects.create(
                thread=thread, side=side, author=author, text=text, key=key or None
            )
    except IntegrityError:
        return Message.objects.get(key=key), False
    if attachments:
        message.attachments.set(attachments)
    return message, True


def thread_message_post(
    *,
    thread: Thread,
    user: User,
    text: str,
    key: str | None = None,
    attachments: list[Attachment] | None = None,
    now: datetime | None = None,
) -> Message:
    """A message from one of the parties (the citizen, the studio's members, its head or
    the CPPCC office); anyone else is refused. A member's first message is their reply
    (the clock stops); later ones are notes. The other side is notified."""
    side = thread_party(thread=thread, user=user)
    if side is None:
        raise StudioError(StudioErrorCode.NOT_PARTY)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=thread.case_id)
        if case.closed_at is not None:
            raise StudioError(StudioErrorCode.STATE)
        message, fresh = _message_add(
            thread=thread, side=side, author=user, text=text, key=key, attachments=attachments
        )
        if not fresh:
            return message
        if side == Side.MEMBER and case.state != wf.WITH_UNIT:
            _member_step(
                thread=thread, user=user, action="reply", note=message.text or "…", now=now
            )
        else:  # the citizen, or the member while a unit has the matter: a note
            timeline_append(
                case=case,
                action="consultation_message",
                actor=user,
                note=message.text,
                now=now,
            )
        if side == Side.MEMBER:
            _notify_citizen(thread=thread)
        else:
            _notify_member(thread=thread, text=message.text)
    return message


def _member_step(
    *, thread: Thread, user: User, action: str, note: str, now: datetime | None = None
) -> None:
    case = Case.objects.get(pk=thread.case_id)
    transition(case=case, action=action, actor=user, note=note, via=VIA, now=now)
    if thread.first_reply_at is None:
        thread.first_reply_at = now or timezone.now()
        thread.save(update_fields=["first_reply_at"])


def thread_invite(*, thread: Thread, user: User, text: str, now: datetime | None = None) -> Message:
    """The member invites the citizen to the studio's duty day."""
    if thread_party(thread=thread, user=user) != Side.MEMBER:
        raise StudioError(StudioErrorCode.NOT_PARTY)
    with transaction.atomic():
        message, _fresh = _message_add(
            thread=thread, side=Side.MEMBER, author=user, text=text, key=None
        )
        _member_step(thread=thread, user=user, action="invite", note=message.text, now=now)
        _notify_citizen(thread=thread)
    return message


def thread_pass(
    *, thread: Thread, user: User, unit: Unit, note: str, now: datetime | None = None
) -> Case:
    """Pass the matter to a unit: a core case of that unit with a deadline, linked to the
    thread's case ("came from" / "became"); its result comes back into the thread."""
    if thread_party(thread=thread, user=user) != Side.MEMBER:
        raise StudioError(StudioErrorCode.NOT_PARTY)
    note = note.strip()
    if not note:
        raise StudioError(StudioErrorCode.MISSING, field="note")
    now = now or timezone.now()
    case = thread.case
    with transaction.atomic():
        referral = case_submit(
            draft=CaseDraft(
                channel="consultation_referral",
                title=case.title,
                body=f"{case.body}\n\n委员意见：{note}",
                area=case.area,
                owner_unit=unit,
                source="web",
                data={"thread_case": case.number},
                due_at=due_at(start=now, sla=SLA(settings.STUDIO_REFERRAL_DAYS, "workday")),
            ),
            now=now,
        )
        case_links_add(sources=[case], target=referral, actor=user, now=now)
        _message_add(
            thread=thread,
            side=Side.MEMBER,
            author=user,
            text=f"已转交{unit.name}办理：{note}",
            key=None,
        )
        _member_step(thread=thread, user=user, action="pass_to_unit", note=note, now=now)
        _notify_citizen(thread=thread)
    return referral


def referral_result(*, referral: Case, user: User, text: str, now: datetime | None = None) -> Case:
    """The unit's result: closes its case and, for a matter passed from a thread, comes
    back into the thread as a message (a session's recommendation has no thread)."""
    text = text.strip()
    if not text:
        raise StudioError(StudioErrorCode.MISSING, field="text")
    with transaction.atomic():
        done = transition(case=referral, action="result", actor=user, note=text, via=VIA, now=now)
        if "thread_case" not in referral.data:
            return done
        source = Case.objects.get(number=referral.data["thread_case"])
        thread = thread_for_case(case=source)
        unit = referral.owner_unit
        _message_add(
            thread=thread,
            side=Side.UNIT,
            author=user,
            text=f"{unit.name if unit else ''}办理结果：{text}",
            key=None,
        )
        if source.state == wf.WITH_UNIT:
            transition(case=source, action="unit_result", actor=None, note=text, via=VIA, now=now)
        _notify_citizen(thread=thread)
    return done


def thread_rate(
    *, thread: Thread, user: User, rating: str, comment: str = "", now: datetime | None = None
) -> Case:
    """The citizen rates the answer, which closes the thread."""
    if thread_party(thread=thread, user=user) != Side.CITIZEN:
        raise StudioError(StudioErrorCode.NOT_PARTY)
    with transaction.atomic():
        return transition(
            case=thread.case,
            action="rate",
            actor=user,
            rating=rating,
            note=comment,
            via=VIA,
            now=now,
        )


# --------------------------------------------------------------------------- reports


def _report_length(*, title: str, situation: str, analysis: str, suggestion: str) -> int:
    return len(title) + len(situation) + len(analysis) + len(suggestion)


def _check_length(**parts: str) -> None:
    count = _report_length(**parts)
    limit = settings.STUDIO_REPORT_MAX_CHARS
    if count > limit:
        raise StudioError(StudioErrorCode.TOO_LONG, field="situation", limit=limit, count=count)


def report_draft(
    *,
    author: Member,
    title: str,
    situation: str,
    analysis: str,
    suggestion: str,
    coauthors: list[Member] | None = None,
    threads: list[Thread] | None = None,
    now: datetime | None = None,
) -> Report:
    """A member's report, from scratch or from threads they may see (linked both ways:
    the report lists the threads, each thread's page lists the report)."""
    parts = {
        "title": title.strip(),
        "situation": situation.strip(),
        "analysis": analysis.strip(),
        "suggestion": suggestion.strip(),
    }
    if not all(parts.values()):
        raise StudioError(StudioErrorCode.MISSING)
    _check_length(**parts)
    for thread in threads or ():
        if author.user is None or thread_party(thread=thread, user=author.user) != Side.MEMBER:
            raise StudioError(StudioErrorCode.FORBIDDEN, field="threads")
    now = now or timezone.now()
    with transaction.atomic():
        report = Report.objects.create(
            **parts, status=ReportStatus.SUBMITTED, year=timezone.localtime(now).year
        )
        report.authors.set([author, *(coauthors or ())])
        if threads:
            report.threads.set(threads)
    return report


def _office_check(user: User) -> None:
    if not is_cppcc_office(user=user):
        raise StudioError(StudioErrorCode.FORBIDDEN)


def report_edit(
    *, report: Report, user: User, title: str, situation: str, analysis: str, suggestion: str
) -> Report:
    """The information office's edit, kept beside the member's original."""
    _office_check(user)
    parts = {
        "title": title.strip(),
        "situation": situation.strip(),
        "analysis": analysis.strip(),
        "suggestion": suggestion.strip(),
    }
    _check_length(**parts)
    report.edited = parts
    report.editor = user
    report.status = ReportStatus.EDITED
    report.save(update_fields=["edited", "editor", "status"])
    return report


def report_adopt(
    *, report: Report, user: User, level: str, body: str, adopted_on: date | None = None
) -> Adoption:
    """Record that a body at `level` adopted the report; each level once."""
    _office_check(user)
    if level not in Level.values or not body.strip():
        raise StudioError(StudioErrorCode.LEVEL, field="level")
    try:
        with transaction.atomic():
            adoption = Adoption.objects.create(
                report=report,
                level=level,
                body=body.strip()[:100],
                adopted_on=adopted_on or timezone.localdate(),
            )
    except IntegrityError:
        raise StudioError(StudioErrorCode.LEVEL, field="level") from None
    Report.objects.filter(pk=report.pk).update(status=ReportStatus.FORWARDED)
    return adoption


def report_instruct(
    *, report: Report, user: User, leader: str, level: str, text: str, given_on: date | None = None
) -> Instruction:
    """Record a leader's 批示: who, when, what."""
    _office_check(user)
    if not leader.strip() or not text.strip() or level not in Level.values:
        raise StudioError(StudioErrorCode.MISSING)
    return Instruction.objects.create(
        report=report,
        leader=leader.strip()[:100],
        level=level,
        text=text.strip(),
        given_on=given_on or timezone.localdate(),
    )


# The office's points table and quotas; the fields a form may set, each 0..RULES_MAX.
RULES_FIELDS = (
    "points_wenling",
    "points_taizhou",
    "points_province",
    "points_national",
    "points_instruction",
    "quota_standing",
    "quota_other",
)
RULES_MAX = 1000


def tally_rules_set(*, year: int, values: Mapping[str, Any], user: User) -> TallyRules:
    """Set the points table and quotas for `year` (the office only). Every field must be a
    whole number from 0 to RULES_MAX; nothing is saved unless all are."""
    _office_check(user)
    cleaned: dict[str, int] = {}
    for name in RULES_FIELDS:
        raw = str(values.get(name, "")).strip()
        if not raw.isdigit() or int(raw) > RULES_MAX:
            label = TallyRules.label(name)
            raise StudioError(StudioErrorCode.RULES, field=name, label=label, limit=RULES_MAX)
        cleaned[name] = int(raw)
    rules, _created = TallyRules.objects.update_or_create(
        year=year, defaults={**cleaned, "updated_by": user}
    )
    return rules


# --------------------------------------------------------------------------- 民生议事堂

STATEMENT_MAX_CHARS = 280


def session_create(
    *,
    studio: Studio,
    user: User,
    topic: str,
    background: str,
    held_at: datetime,
    place: str,
) -> Session:
    """A 民生议事堂 on a topic, its opinion round open until the meeting (the office or
    the studio's head)."""
    if not (is_cppcc_office(user=user) or is_studio_head(user=user, studio=studio)):
        raise StudioError(StudioErrorCode.FORBIDDEN)
    if not topic.strip() or not place.strip():
        raise StudioError(StudioErrorCode.MISSING)
    return Session.objects.create(
        studio=studio,
        topic=topic.strip()[:200],
        background=background.strip(),
        held_at=held_at,
        place=place.strip()[:200],
    )


def participant_add(*, session: Session, name: str, kind: str) -> Participant:
    """A participant of the round; their link (`token`) lets them post and vote."""
    if not name.strip() or kind not in ParticipantKind.values:
        raise StudioError(StudioErrorCode.MISSING, field="name")
    return Participant.objects.create(session=session, name=name.strip()[:50], kind=kind)


def _round_check(session: Session) -> None:
    if not session.round_open:
        raise StudioError(StudioErrorCode.STATE)


def statement_post(*, participant: Participant, text: str) -> Statement:
    """A short statement others vote on; the same text twice from one participant is one
    statement (a second tap)."""
    session = participant.session
    _round_check(session)
    text = " ".join(text.split())
    if not text:
        raise StudioError(StudioErrorCode.MISSING, field="text")
    if len(text) > STATEMENT_MAX_CHARS:
        raise StudioError(
            StudioErrorCode.STATEMENT_LONG, field="text", limit=STATEMENT_MAX_CHARS, count=len(text)
        )
    statement, _created = Statement.objects.get_or_create(
        session=session, author=participant, text=text
    )
    return statement


def vote_cast(*, participant: Participant, statement: Statement, value: int) -> Vote:
    """Agree (1), disagree (-1) or pass (0) on a statement of the same session; voting
    again changes the vote."""
    _round_check(participant.session)
    if statement.session_id != participant.session_id:
        raise StudioError(StudioErrorCode.NOT_PARTY)
    if value not in (-1, 0, 1):
        raise StudioError(StudioErrorCode.MISSING, field="value")
    vote, _created = Vote.objects.update_or_create(
        statement=statement, participant=participant, defaults={"value": value}
    )
    return vote


def session_conclude(
    *,
    session: Session,
    user: User,
    minutes: str,
    recommendations: list[tuple[str, Unit]],
    publish: bool = True,
    now: datetime | None = None,
) -> list[Recommendation]:
    """Close the round, keep the minutes, and follow each agreed recommendation as a case
    of the unit it goes to, with a deadline; publish the results."""
    if not (is_cppcc_office(user=user) or is_studio_head(user=user, studio=session.studio)):
        raise StudioError(StudioErrorCode.FORBIDDEN)
    if not minutes.strip():
        raise StudioError(StudioErrorCode.MISSING, field="minutes")
    now = now or timezone.now()
    out = []
    with transaction.atomic():
        session.minutes = minutes.strip()
        session.round_open = False
        session.published = publish
        session.save(update_fields=["minutes", "round_open", "published"])
        for text, unit in recommendations:
            text = text.strip()
            if not text:
                continue
            case = case_submit(
                draft=CaseDraft(
                    channel="consultation_referral",
                    title=f"{session.topic[:40]}：{text[:30]}",
                    body=text,
                    area=session.studio.town,
                    owner_unit=unit,
                    source="web",
                    data={"session_id": session.pk},
                    due_at=due_at(start=now, sla=SLA(settings.STUDIO_REFERRAL_DAYS, "workday")),
                ),
                now=now,
            )
            out.append(Recommendation.objects.create(session=session, text=text, case=case))
    return out


def member_for(user: User) -> Member:
    member = member_of(user=user)
    if member is None:
        raise StudioError(StudioErrorCode.FORBIDDEN)
    return member


__all__ = [
    "consultation_draft_prepare",
    "member_for",
    "participant_add",
    "referral_result",
    "report_adopt",
    "report_draft",
    "report_edit",
    "report_instruct",
    "session_conclude",
    "session_create",
    "statement_post",
    "thread_for_case",
    "thread_invite",
    "thread_message_post",
    "thread_open",
    "thread_pass",
    "thread_rate",
    "vote_cast",
]
