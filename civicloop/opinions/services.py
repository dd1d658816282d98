"""Writes of the 民意 channel: an opinion sent from a deputy's or station's code, the SMS
codes that guard it, the citizen's own rating, and the deputy's inbox actions.

The closed loop itself (states, deadlines, DingTalk notices, the citizen's SMS) is core's
(`civicloop.core.cases.services`); these functions check what is particular to a
citizen on a phone and then call it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.core import registry
from civicloop.core.accounts.crypto import lookup_digest
from civicloop.core.accounts.errors import AccountError
from civicloop.core.accounts.models import User
from civicloop.core.accounts.services import (
    check_mainland_mobile,
    sms_code_bind,
    sms_code_consume,
    sms_code_send,
    sms_code_verify,
)
from civicloop.core.areas.services import area_nearest
from civicloop.core.attachments.errors import AttachmentError
from civicloop.core.attachments.models import Attachment
from civicloop.core.attachments.services import attachments_create_batch
from civicloop.core.cases import notifications
from civicloop.core.cases.access import cases_visible_to
from civicloop.core.cases.errors import CaseError, CaseErrorCode
from civicloop.core.cases.models import Case, Rating
from civicloop.core.cases.notifications import Recipients
from civicloop.core.cases.services import (
    CITIZEN_LABEL,
    CaseDraft,
    case_submit,
    clean_text,
    timeline_append,
    transition,
)
from civicloop.core.outbox.services import outbox_enqueue_many
from civicloop.core.ratelimit import (
    RateLimit,
    RateLimitExceeded,
    rate_limits_hit,
    rate_limits_release,
)
from civicloop.core.units.models import Unit
from civicloop.opinions.codes import code_receiver
from civicloop.opinions.errors import OpinionError, OpinionErrorCode
from civicloop.opinions.hooks import OPINION
from civicloop.opinions.selectors_inbox import inbox_cases

CHANNEL = OPINION.code
SUBMIT_PURPOSE = "opinion"
TRACK_PURPOSE = "opinion_track"
BODY_MAX_CHARS = 2000
PHOTOS_MAX = 9
# Spam is held back per phone and per client address (one-hour windows of the one rate
# limiter, `core.ratelimit`); both can be tuned per deployment in settings.
SUBMISSIONS_PER_PHONE_PER_HOUR = 5
SUBMISSIONS_PER_IP_PER_HOUR = 20
# The actions a deputy or station clerk takes from the inbox.
INBOX_ACTIONS = ("accept", "answer", "dispatch", "merge", "reject", "rate", "rework", "transfer")
# The deputy's 回访 of a closed opinion the citizen rated 不满意: a timeline entry, not a
# workflow action (the case stays closed), taken from the same inbox form.
FOLLOW_UP_ACTION = "follow_up"


# --------------------------------------------------------------------------- rate limits


def _per_hour(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _check_submission_limits(*, phone_digest: str, ip: str | None) -> list[RateLimit]:
    """Count this submission against the phone's and the address's hourly limits, both or
    neither (OpinionError, 429, when one is full), and return what was counted: the
    caller gives it back (`rate_limits_release`) if the submission is then refused
    for another reason, so only stored opinions use up the hour. Counting is the check,
    so concurrent submissions cannot all pass a limit only some of them fit in."""
    limits = [
        RateLimit(
            "opinion-phone",
            phone_digest,
            _per_hour("OPINION_SUBMISSIONS_PER_PHONE_PER_HOUR", SUBMISSIONS_PER_PHONE_PER_HOUR),
            3600,
        )
    ]
    if ip:
        limits.append(
            RateLimit(
                "opinion-ip",
                ip,
                _per_hour("OPINION_SUBMISSIONS_PER_IP_PER_HOUR", SUBMISSIONS_PER_IP_PER_HOUR),
                3600,
            )
        )
    try:
        rate_limits_hit(limits)
    except RateLimitExceeded as exc:
        message = (
            _("该手机号提交过于频繁，请一小时后再试。") if exc.scope == "opinion-phone" else None
        )
        raise OpinionError(
            OpinionErrorCode.RATE_LIMITED, message, retry_after=exc.retry_after
        ) from None
    return limits


# --------------------------------------------------------------------------- SMS codes


# --------------------------------------------------------------------------- submit


@dataclass
class OpinionSubmission:
    """What a citizen sent from a code page (already parsed, not yet trusted)."""

    slug: str
    body: str
    phone: str
    code: str
    submission_key: str
    category: str = ""
    contact_name: str = ""
    anonymous: bool = False
    # The citizen agreed to publish the text and the place (rounded), never the contact.
    publish_consent: bool = False
    lat: Decimal | None = None
    lng: Decimal | None = None
    address: str = ""
    photos: Sequence[UploadedFile] = field(default_factory=list)
    voice: Sequence[UploadedFile] = field(default_factory=list)
    ip: str | None = None


def _check_submission(sub: OpinionSubmission) -> tuple[str, str]:
    """Field checks that need no database. Returns (clean phone, clean body)."""
    body = clean_text(sub.body)
    if not body:
        raise OpinionError(OpinionErrorCode.MISSING, _("请填写您要反映的内容。"), field="body")
    if len(body) > BODY_MAX_CHARS:
        raise OpinionError(
            OpinionErrorCode.INVALID,
            _("内容最多 %(max)d 字，请精简后再提交。"),
            field="body",
            max=BODY_MAX_CHARS,
        )
    categories = {code for code, _label in registry.channel(CHANNEL).categories}
    if sub.category and sub.category not in categories:
        raise OpinionError(OpinionErrorCode.INVALID, _("请选择问题类别。"), field="category")
    if len(sub.photos) > PHOTOS_MAX:
        raise OpinionError(
            OpinionErrorCode.INVALID, _("最多上传 %(max)d 张照片。"), field="photos", max=PHOTOS_MAX
        )
    if len(sub.voice) > 1:
        raise OpinionError(OpinionErrorCode.INVALID, _("只能上传一段录音。"), field="voice")
    if (sub.lat is None) != (sub.lng is None):
        raise OpinionError(
            OpinionErrorCode.INVALID, _("定位不完整，请重新定位或填写地址。"), field="address"
        )
    if (
        sub.lat is not None
        and sub.lng is not None
        and not (-90 <= sub.lat <= 90 and -180 <= sub.lng <= 180)
    ):
        raise OpinionError(
            OpinionErrorCode.INVALID, _("定位无效，请重新定位或填写地址。"), field="address"
        )
    if not sub.submission_key or len(sub.submission_key) > 64:
        raise OpinionError(OpinionErrorCode.FORM_EXPIRED)
    try:
        phone = check_mainland_mobile(sub.phone)
    except AccountError as refused:
        raise OpinionError(OpinionErrorCode.PHONE, refused.message, field="phone") from None
    return phone, body


def _same_submission(sub: OpinionSubmission, *, digest: str, refused: AccountError) -> Case:
    """The case a concurrent tap of the same form stored, when this tap's SMS code was
    refused because that tap used it up; else the refusal of the code."""
    stored = Case.objects.filter(submission_key=sub.submission_key).first()
    if stored is not None and stored.contact_phone_digest == digest:
        return stored
    if not sub.code.strip():
        raise OpinionError(OpinionErrorCode.SMS_CODE, field="code")
    raise OpinionError(OpinionErrorCode.SMS_CODE, refused.message, field="code") from None


def _files_store(uploads: Sequence[UploadedFile], *, kind: str, field: str) -> list[Attachment]:
    try:
        return attachments_create_batch(
            uploads=list(uploads), uploaded_by=None, allowed_kinds=frozenset({kind})
        )
    except AttachmentError as error:
        raise OpinionError(OpinionErrorCode.FILE, error.message, field=field) from None


def opinion_submit(*, submission: OpinionSubmission, now: datetime | None = None) -> Case:
    """Store a citizen's opinion sent through a code, whole or not at all.

    Guarantees:
    - nothing is stored unless every field is valid, the phone's SMS code is right and
      the phone and address are within their hourly limits (OpinionError says what to
      fix, with status 429 for a limit);
    - the files (photos re-encoded, voice checked) and the case, its first step, timeline
      entry and acknowledgement SMS commit in one transaction: a refused file leaves no
      case, and a failure after it leaves no attachment row;
    - the receiver is the code's: its station, and for an active deputy code also the
      deputy (`holder_user`), so it lands in that deputy's inbox; a revoked deputy code
      reaches the station;
    - the citizen's consent to publish is kept in `Case.data["publish_consent"]`
      (true or false), which the public views read (core.registry.Publication);
    - the SMS code is used up in that same transaction: after a crash or a refused file
      it is still good for this form (sent again without a new code within 30 minutes);
    - the same `submission_key` (a second tap, a retry, even one racing the first)
      returns the first case;
    - a location outside the city (no town's centroid within AREA_ROUTING_MAX_KM) is
      refused, never stored."""
    sub = submission
    phone, body = _check_submission(sub)
    # A phone's GPS answering 0,0, or a reading from another city, is no place in
    # Wenling: refused, not stored as the opinion's location.
    if (
        sub.lat is not None
        and sub.lng is not None
        and area_nearest(lat=float(sub.lat), lng=float(sub.lng)) is None
    ):
        raise OpinionError(
            OpinionErrorCode.INVALID,
            _("所给位置不在本市范围内，请核对定位或改填详细地址。"),
            field="address",
        )
    digest = lookup_digest(phone)
    existing = Case.objects.filter(submission_key=sub.submission_key).first()
    if existing is not None:
        if existing.contact_phone_digest != digest:
            raise OpinionError(OpinionErrorCode.FORM_EXPIRED)
        return existing
    counted = _check_submission_limits(phone_digest=digest, ip=sub.ip)
    # A typed code is checked and bound to this form; without one, a code this form
    # already proved (its photo was refused) is used. Either way the code is used up
    # only in the transaction that stores the case, so a crash before it loses nothing.
    if sub.code.strip():
        try:
            sms_code_bind(
                phone=phone, code=sub.code, purpose=SUBMIT_PURPOSE, bind=sub.submission_key
            )
        except AccountError as refused:
            rate_limits_release(counted)
            return _same_submission(sub, digest=digest, refused=refused)

    unit, deputy_user = code_receiver(sub.slug)
    data: dict[str, Any] = {"code": sub.slug, registry.PUBLISH_CONSENT: sub.publish_consent}
    deputy = getattr(deputy_user, "deputy", None) if deputy_user is not None else None
    if deputy is not None:
        data["deputy_id"] = deputy.pk
        data["deputy_name"] = deputy.name
    try:
        with transaction.atomic():
            sms_code_consume(phone=phone, purpose=SUBMIT_PURPOSE, bind=sub.submission_key)
            photos = _files_store(sub.photos, kind="photo", field="photos")
            voice = _files_store(sub.voice, kind="voice", field="voice")
            case = case_submit(
                draft=CaseDraft(
                    channel=CHANNEL,
                    title="",
                    body=body,
                    category=sub.category,
                    area=unit.area,
                    lat=sub.lat,
                    lng=sub.lng,
                    address=sub.address,
                    contact_name=clean_text(sub.contact_name)[:50],
                    contact_phone=phone,
                    anonymous=sub.anonymous,
                    owner_unit=unit,
                    holder_user=deputy_user,
                    attachments=[*photos, *voice],
                    submission_key=sub.submission_key,
                    source="code",
                    data=data,
                ),
                now=now,
            )
    except AccountError as refused:
        rate_limits_release(counted)
        return _same_submission(sub, digest=digest, refused=refused)
    except CaseError as error:
        rate_limits_release(counted)
        raise OpinionError(OpinionErrorCode.CASE, error.message, field=error.field) from None
    except IntegrityError:
        # Two taps raced past the first check: the other one stored the case.
        raced = Case.objects.filter(submission_key=sub.submission_key).first()
        if raced is None:
            raise
        rate_limits_release(counted)
        return raced
    return case


# --------------------------------------------------------------------------- tracking


def opinion_track_code_send(*, number: str, phone: str, ip: str | None) -> bool:
    """Send a tracking code when the number and phone belong together; returns whether
    one was sent. The caller answers the same either way, so a stranger learns nothing
    about whose case a number is."""
    try:
        clean = check_mainland_mobile(phone)
    except AccountError as refused:
        raise OpinionError(OpinionErrorCode.PHONE, refused.message, field="phone") from None
    matches = Case.objects.filter(
        number=number.strip().upper(), channel=CHANNEL, contact_phone_digest=lookup_digest(clean)
    ).exists()
    if not matches:
        return False
    try:
        sms_code_send(phone=clean, ip=ip, purpose=TRACK_PURPOSE)
    except AccountError as refused:
        # Only a limit can refuse here: the number was checked above.
        raise OpinionError(
            OpinionErrorCode.RATE_LIMITED,
            refused.message,
            field="phone",
            retry_after=refused.retry_after,
        ) from None
    return True


def opinion_track_verify(*, number: str, phone: str, code: str) -> Case:
    """The case behind number + phone once the phone's code is right."""
    try:
        clean = sms_code_verify(phone=phone, code=code, purpose=TRACK_PURPOSE)
    except AccountError as refused:
        raise OpinionError(OpinionErrorCode.SMS_CODE, refused.message, field="code") from None
    case = Case.objects.filter(
        number=number.strip().upper(), channel=CHANNEL, contact_phone_digest=lookup_digest(clean)
    ).first()
    if case is None:
        raise OpinionError(OpinionErrorCode.MISMATCH, field="number")
    return case


def opinion_citizen_rate(
    *, case: Case, rating: str, comment: str = "", now: datetime | None = None
) -> Case:
    """Record the citizen's own rating of a closed opinion, once.

    Guarantees, in one transaction with the case row locked (two taps or two tabs record
    one rating):
    - the rating is appended to the case's hash-chained timeline (action
      `citizen_rating`, data: rating, comment, time) and kept in
      `Case.data["citizen_rating"]`;
    - a 不满意 (unsatisfied) is not only recorded: a DingTalk work notice to the station's
      staff and to the deputy the opinion was sent to goes into the outbox in the same
      transaction (core's `notifications.on_citizen_rating`), and the opinion stays in the
      deputy's inbox under 群众不满意，待回访 until the deputy or station records a 回访
      (`opinion_follow_up_record`);
    - the case is not reopened: it stays 已办结 with its result. Reopening needs a
      workflow action out of the closed state, which the generic loop does not have; the
      follow-up is the deputy's call (answer again by phone, or help the citizen send a
      new opinion);
    - the figures count it: in the 满意率 the citizen's own rating takes precedence over
      the rating the deputy entered (`opinions.stats`)."""
    if rating not in Rating.values:
        raise OpinionError(
            OpinionErrorCode.INVALID, _("请选择满意、基本满意或不满意。"), field="rating"
        )
    comment = clean_text(comment)[:500]
    now = now or timezone.now()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.state != "closed":
            raise OpinionError(OpinionErrorCode.NOT_CLOSED)
        if locked.data.get("citizen_rating"):
            raise OpinionError(OpinionErrorCode.ALREADY_RATED)
        given = {"rating": rating, "comment": comment, "at": now.isoformat()}
        entry = timeline_append(
            case=locked,
            action="citizen_rating",
            data=given,
            now=now,
            actor_label=CITIZEN_LABEL,
        )
        outbox_enqueue_many(
            drafts=notifications.on_citizen_rating(Recipients(), case=locked, entry=entry)
        )
        locked.data["citizen_rating"] = given
        Case.objects.filter(pk=locked.pk).update(data=locked.data, updated_at=now)
    return locked


def opinion_awaits_follow_up(case: Case) -> bool:
    """Whether the citizen rated the closed opinion 不满意 and no 回访 is recorded yet."""
    given = case.data.get("citizen_rating") or {}
    return given.get("rating") == Rating.UNSATISFIED and not case.data.get("follow_up")


def opinion_follow_up_record(
    *, case: Case, actor: User, note: str, now: datetime | None = None
) -> Case:
    """Record the deputy's or station's 回访 (follow-up) of an opinion the citizen rated
    不满意, once.

    Guarantees: only someone whose inbox holds the opinion (staff of its station, or the
    deputy it was sent to) may record it, with a note of what was done; the note is
    appended to the hash-chained timeline (action `follow_up`, shown to the citizen on
    the tracking page) and kept in `Case.data["follow_up"]`, in one transaction with the
    case row locked; the opinion then leaves the inbox's 待回访 section. The case's state
    does not change. Raises CaseError with the field to mark."""
    note = clean_text(note)[:1000]
    if not note:
        raise CaseError(CaseErrorCode.MISSING, _("请填写回访情况。"), field="note")
    if not inbox_cases(user=actor).filter(pk=case.pk).exists():
        raise CaseError(CaseErrorCode.FORBIDDEN)
    now = now or timezone.now()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if not opinion_awaits_follow_up(locked):
            raise CaseError(CaseErrorCode.INVALID_STATE, _("该事项没有待回访的不满意评价。"))
        timeline_append(
            case=locked,
            action=FOLLOW_UP_ACTION,
            actor=actor,
            unit=locked.owner_unit,
            note=note,
            data={"rating": Rating.UNSATISFIED.value},
            now=now,
        )
        locked.data["follow_up"] = {"by": actor.pk, "at": now.isoformat()}
        Case.objects.filter(pk=locked.pk).update(data=locked.data, updated_at=now)
    return locked


# --------------------------------------------------------------------------- inbox


def opinion_act(
    *,
    case: Case,
    action: str,
    actor: User,
    note: str = "",
    unit_id: int | None = None,
    grade: str = "",
    rating: str = "",
    merge_into_number: str = "",
    idempotency_key: str | None = None,
) -> Case:
    """Take an inbox action (accept, answer, dispatch, merge, reject, rate, rework,
    transfer) through core's `transition`, which checks state, role and requirements
    and records everything. Raises CaseError with the field to mark."""
    if action not in INBOX_ACTIONS:
        raise CaseError(CaseErrorCode.UNKNOWN_ACTION)
    unit = None
    if unit_id is not None:
        unit = Unit.objects.filter(pk=unit_id, is_active=True).first()
        if unit is None:
            raise CaseError(CaseErrorCode.INVALID, _("该单位不存在或已停用。"), field="unit")
    merge_into = None
    if action == "merge":
        number = merge_into_number.strip().upper()
        if not number:
            raise CaseError(
                CaseErrorCode.MISSING, _("请填写要合并到的事项编号。"), field="merge_into"
            )
        merge_into = cases_visible_to(actor).filter(number=number).first()
        if merge_into is None:
            raise CaseError(CaseErrorCode.INVALID, _("找不到该事项编号。"), field="merge_into")
    return transition(
        case=case,
        action=action,
        actor=actor,
        note=note,
        unit=unit,
        grade=grade,
        rating=rating,
        merge_into=merge_into,
        idempotency_key=idempotency_key,
    )
