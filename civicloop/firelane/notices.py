"""The officer's review and the notice (告知单): approve or dismiss, the owner's signed
link, their statement (陈述申辩), and the case closing when the fine is paid.

No notice goes out without an officer's review of the evidence (行政处罚法 第四十一条:
facts recorded by electronic monitoring must be reviewed for completeness and accuracy,
and the party told promptly and allowed to state their case).
"""

from __future__ import annotations

import base64
import logging
from datetime import date, datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext, gettext_noop

from civicloop.core.accounts.models import User
from civicloop.core.cases.models import Case
from civicloop.core.cases.services import case_numbers_allocate, clean_text, transition
from civicloop.core.outbox.services import OutboxDraft, outbox_enqueue_many
from civicloop.firelane.access import firelane_scope_for
from civicloop.firelane.errors import NoticeError, NoticeErrorCode
from civicloop.firelane.models import Notice, Owner, Payment, Stay
from civicloop.firelane.payments.provider import fen_to_yuan
from civicloop.firelane.penalty import late_fee_fen, payment_due, statement_due
from civicloop.firelane.workflow import DECIDED, NOTICED, REVIEW, STATEMENT, TO_POST, VIA

logger = logging.getLogger(__name__)

FIRE_LANE_FINE_MAX_INDIVIDUAL_YUAN = 500  # 消防法 第六十条第二款: 个人 警告或者五百元以下罚款
# The legal text is stored on each notice in Chinese (the authoritative wording); pages
# show it in the reader's language through these msgids.
LEGAL_BASIS_LINES = (
    gettext_noop(
        "《中华人民共和国消防法》第二十八条：任何单位、个人不得占用、堵塞、封闭消防车通道。"
    ),
    gettext_noop(
        "《中华人民共和国消防法》第六十条第一款第（五）项、第二款：占用、堵塞、封闭消防车通道，"
        "妨碍消防车通行的，个人处警告或者五百元以下罚款。"
    ),
    gettext_noop(
        "《中华人民共和国行政处罚法》第四十一条：利用电子技术监控设备收集、固定违法事实的，"
        "经审核确认后及时告知当事人，并依法保障当事人的陈述权、申辩权。"
    ),
)
LEGAL_BASIS = "\n".join(LEGAL_BASIS_LINES)
RIGHTS = gettext_noop(
    "您有权在收到本告知单之日起%(days)s个工作日内（%(due)s前）进行陈述和申辩"
    "（行政处罚法第四十四条、第四十五条），可通过本页面提交，也可放弃。"
    "期满未提出的，视为放弃，本机关将依法作出处罚决定。"
)
# 行政处罚法 第五十九条: the decision states how to pay within the period and the party's
# rights of 行政复议 (行政复议法 第二十条: sixty days) and 行政诉讼 (行政诉讼法 第四十六条:
# six months).
DECISION_RIGHTS = gettext_noop(
    "请自收到本决定书之日起%(days)s日内（%(due)s前）缴纳罚款；到期不缴纳的，每日按罚款数额的百分之三"
    "加处罚款，加处罚款的数额不超出罚款数额（行政处罚法第七十二条）。"
    "如不服本决定，可以自收到本决定书之日起六十日内依法申请行政复议，"
    "或者六个月内依法向人民法院提起行政诉讼。"
)
STATEMENT_MAX_CHARS = 2000


def fine_default_fen() -> int:
    return int(getattr(settings, "FIRELANE_FINE_DEFAULT_FEN", 20000))


def link_ttl() -> timedelta:
    return timedelta(days=int(getattr(settings, "FIRELANE_LINK_TTL_DAYS", 30)))


# --------------------------------------------------------------------------- the link


def _b36(n: int) -> str:
    chars = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = chars[r] + out
        if n == 0:
            return out


def _sig(notice_id: int, nonce: str, expires: int) -> str:
    mac = salted_hmac("civicloop.firelane.notice-link", f"{notice_id}:{nonce}:{expires}")
    return base64.urlsafe_b64encode(mac.digest()[:12]).decode().rstrip("=")


def notice_token(notice: Notice) -> str:
    """A short signed token for the SMS link: the notice id, its expiry and a MAC over
    both and the notice's secret nonce (changing the nonce revokes every link)."""
    expires = int(notice.link_expires_at.timestamp())
    # "." separates: base64url signatures contain "-" and "_".
    return f"{_b36(notice.pk)}.{_b36(expires)}.{_sig(notice.pk, notice.link_nonce, expires)}"


def notice_page_url(notice: Notice, *, absolute: bool = False) -> str:
    """The owner's page; `absolute` as the SMS shows it (the filed prefix + the token)."""
    if absolute:
        return f"{settings.SMS_LINK_PREFIX}{notice_token(notice)}"
    return f"/n/{notice_token(notice)}"


def notice_by_token(*, token: str, now: datetime | None = None) -> Notice | None:
    """The notice a link names, or None if the token is malformed, tampered or expired."""
    now = now or timezone.now()
    parts = token.split(".")
    if len(parts) != 3 or len(token) > 64:
        return None
    # Only the spelling notice_token writes: int(..., 36) would also take "01", "+1",
    # " 1", "1_0" and upper case, so one notice would answer to many links.
    if not all(p.isascii() and p.isalnum() and p == p.lower() and p[0] != "0" for p in parts[:2]):
        return None
    notice_id, expires = int(parts[0], 36), int(parts[1], 36)
    if expires < now.timestamp():
        return None
    notice = (
        Notice.objects.select_related("case", "stay__site", "stay__lane")
        .filter(pk=notice_id)
        .first()
    )
    if notice is None:
        return None
    if not constant_time_compare(parts[2], _sig(notice.pk, notice.link_nonce, expires)):
        return None
    if int(notice.link_expires_at.timestamp()) != expires:
        return None
    return notice


# --------------------------------------------------------------------------- review


def _case_for_review(*, case: Case, officer: User, states: tuple[str, ...]) -> Stay:
    stay = Stay.objects.select_related("site", "lane").filter(case=case).first()
    if stay is None or not firelane_scope_for(user=officer).reviews_site(stay.site):
        raise NoticeError(NoticeErrorCode.FORBIDDEN)
    if case.state not in states:
        raise NoticeError(NoticeErrorCode.INVALID_STATE)
    return stay


def evidence_of(case: Case) -> dict | None:
    """The evidence package recorded in the case's hash chain, if one was built."""
    entry = case.timeline.filter(action="evidence").order_by("-seq").first()
    if entry is None:
        return None
    evidence = entry.data.get("evidence")
    return evidence if isinstance(evidence, dict) else None


def _evidence_complete(evidence: dict | None) -> bool:
    if not evidence:
        return False
    files = evidence.get("files") or []
    scenes = [f for f in files if f.get("role") == "scene" and f.get("sha256")]
    return len(scenes) >= 2 and int(evidence.get("interval_s", 0)) >= 10


def notice_approve(
    *, case: Case, officer: User, amount_fen: int | None = None, now: datetime | None = None
) -> Notice:
    """The officer reviewed the evidence and approves: a numbered notice is issued. With
    the owner's phone from the registry it is sent by SMS with a signed link; otherwise the
    case waits for the notice to be posted on the car (张贴送达).

    Refuses without a complete evidence package, outside the officer's scope, or with an
    amount outside the legal range; changes nothing when it refuses."""
    now = now or timezone.now()
    amount = fine_default_fen() if amount_fen is None else amount_fen
    if not 0 < amount <= FIRE_LANE_FINE_MAX_INDIVIDUAL_YUAN * 100:
        raise NoticeError(NoticeErrorCode.AMOUNT)
    stay = _case_for_review(case=case, officer=officer, states=(REVIEW,))
    evidence = evidence_of(case)
    if not _evidence_complete(evidence):
        raise NoticeError(NoticeErrorCode.NO_EVIDENCE)
    owner = Owner.objects.filter(stay=stay).first()
    phone = owner.phone if owner is not None and owner.found else ""
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.state != REVIEW:
            raise NoticeError(NoticeErrorCode.INVALID_STATE)
        local = timezone.localtime(now)
        serial = case_numbers_allocate(prefix="XFGZ", year=local.year)[0].rsplit("-", 1)[1]
        minutes = stay.duration_minutes
        notice = Notice.objects.create(
            case=locked,
            stay=stay,
            number=f"温消通告〔{local.year}〕{serial}号",
            plate=stay.plate,
            site_name=stay.site.name,
            lane_name=stay.lane.name,
            minutes=minutes,
            legal_basis=LEGAL_BASIS,
            amount_fen=amount,
            delivery=Notice.Delivery.SMS if phone else Notice.Delivery.POSTED,
            issued_at=now,
            issued_by=officer,
            link_expires_at=now + link_ttl(),
            # Served now by SMS; a posted notice's period starts when it is posted.
            statement_due_at=statement_due(served_at=now) if phone else None,
        )
        transition(
            case=locked,
            action="approve" if phone else "approve_post",
            actor=officer,
            data={"notice": notice.number, "amount_fen": amount, "delivery": notice.delivery},
            via=VIA,
            now=now,
        )
        if phone:
            outbox_enqueue_many(
                drafts=[
                    OutboxDraft(
                        "sms",
                        {
                            "phone": phone,
                            "template": "firelane_notice",
                            "params": {
                                "plate": stay.plate,
                                "site": stay.site.name,
                                "minutes": str(minutes),
                                "token": notice_token(notice),
                            },
                        },
                        f"firelane:notice:{notice.pk}:sms",
                        locked.number,
                    )
                ]
            )
    return notice


def notice_dismiss(*, case: Case, officer: User, reason: str, now: datetime | None = None) -> Case:
    """The officer finds the evidence does not prove a violation (不予处罚), with a reason."""
    reason = clean_text(reason)
    if not reason:
        raise NoticeError(NoticeErrorCode.MISSING)
    _case_for_review(case=case, officer=officer, states=(REVIEW,))
    return transition(case=case, action="dismiss", actor=officer, note=reason, via=VIA, now=now)


def notice_posted(
    *, case: Case, officer: User, note: str = "", now: datetime | None = None
) -> Case:
    """The officer posted the notice on the car (the owner could not be reached by SMS)."""
    now = now or timezone.now()
    _case_for_review(case=case, officer=officer, states=(TO_POST,))
    with transaction.atomic():
        Notice.objects.filter(case=case).update(statement_due_at=statement_due(served_at=now))
        return transition(
            case=case, action="posted", actor=officer, note=clean_text(note), via=VIA, now=now
        )


def notice_statement(*, notice: Notice, text: str, now: datetime | None = None) -> Notice:
    """The owner states their case (陈述申辩) through the signed link: recorded on the
    notice and the case, which goes back to the officers for a decision."""
    now = now or timezone.now()
    text = clean_text(text)[:STATEMENT_MAX_CHARS]
    if not text:
        raise NoticeError(NoticeErrorCode.MISSING)
    with transaction.atomic():
        locked = Notice.objects.select_for_update().get(pk=notice.pk)
        case = Case.objects.get(pk=locked.case_id)
        if not statement_open(notice=locked, case=case, now=now):
            raise NoticeError(NoticeErrorCode.INVALID_STATE)
        transition(case=case, action="state_case", actor=None, note=text, via=VIA, now=now)
        locked.statement = text
        locked.statement_at = now
        locked.save(update_fields=["statement", "statement_at"])
    return locked


class StatementOutcome(StrEnum):
    """The officer's answer to a statement (陈述申辩)."""

    ACCEPTED = "accepted"  # no penalty (不予处罚)
    REDUCED = "reduced"  # a lesser fine: the decision follows with it
    REJECTED = "rejected"  # the reasons do not hold: the decision follows unchanged


def notice_statement_decide(
    *,
    case: Case,
    officer: User,
    outcome: StatementOutcome,
    reason: str,
    amount_fen: int | None = None,
    now: datetime | None = None,
) -> Case:
    """The officer answers a statement, with reasons: accepted (不予处罚, the case ends),
    reduced (a decision with `amount_fen`, which must be less than the notice's) or
    rejected (a decision with the notice's amount). The answer is kept on the notice and
    shown to the owner; refuses without a reason or outside the officer's scope, and
    changes nothing when it refuses."""
    now = now or timezone.now()
    reason = clean_text(reason)
    if not reason:
        raise NoticeError(NoticeErrorCode.MISSING)
    _case_for_review(case=case, officer=officer, states=(STATEMENT,))
    with transaction.atomic():
        locked_case = Case.objects.select_for_update().get(pk=case.pk)
        if locked_case.state != STATEMENT:
            raise NoticeError(NoticeErrorCode.INVALID_STATE)
        notice = Notice.objects.select_for_update().get(case=locked_case)
        notice.statement_answer = reason
        notice.statement_answered_at = now
        notice.save(update_fields=["statement_answer", "statement_answered_at"])
        if outcome == StatementOutcome.ACCEPTED:
            return transition(
                case=locked_case,
                action="accept_statement",
                actor=officer,
                note=reason,
                via=VIA,
                now=now,
            )
        fine = notice.amount_fen
        if outcome == StatementOutcome.REDUCED:
            if amount_fen is None or not 0 < amount_fen < notice.amount_fen:
                raise NoticeError(NoticeErrorCode.AMOUNT)
            fine = amount_fen
        _decision_make(
            notice=notice,
            case=locked_case,
            officer=officer,
            action="uphold" if outcome == StatementOutcome.REJECTED else "reduce",
            fine_fen=fine,
            note=reason,
            now=now,
        )
        return locked_case


def statement_open(*, notice: Notice, case: Case, now: datetime | None = None) -> bool:
    """Whether the owner may still state their case or waive it: the notice was served,
    nothing was stated or waived, and the period has not ended."""
    now = now or timezone.now()
    return (
        case.state == NOTICED
        and notice.paid_at is None
        and not notice.statement
        and notice.statement_waived_at is None
        and notice.statement_due_at is not None
        and now <= notice.statement_due_at
    )


def _decision_make(
    *,
    notice: Notice,
    case: Case,
    officer: User,
    action: str,
    fine_fen: int,
    note: str = "",
    now: datetime,
) -> Notice:
    """Number and record the decision (处罚决定书) on the locked notice and move the case
    to `decided`, in the caller's transaction."""
    local = timezone.localtime(now)
    serial = case_numbers_allocate(prefix="XFJD", year=local.year)[0].rsplit("-", 1)[1]
    notice.decision_number = f"温消罚决字〔{local.year}〕{serial}号"
    notice.decided_at = now
    notice.decided_by = officer
    notice.fine_fen = fine_fen
    notice.pay_due_on = payment_due(decided_at=now)
    notice.save(
        update_fields=["decision_number", "decided_at", "decided_by", "fine_fen", "pay_due_on"]
    )
    transition(
        case=case,
        action=action,
        actor=None if action in ("decide", "waive") else officer,
        note=note,
        data={
            "decision": notice.decision_number,
            "fine_fen": fine_fen,
            "pay_due_on": notice.pay_due_on.isoformat(),
        },
        via=VIA,
        now=now,
    )
    # Served on the owner's page; the owner the registry names is told by SMS, under the
    # same key whatever made the decision, so it goes out once.
    owner = Owner.objects.filter(stay_id=notice.stay_id).first()
    if owner is not None and owner.found and owner.phone:
        outbox_enqueue_many(
            drafts=[
                OutboxDraft(
                    "sms",
                    {
                        "phone": owner.phone,
                        "template": "firelane_decision",
                        "params": {
                            "plate": notice.plate,
                            "due": notice.pay_due_on.strftime("%Y-%m-%d"),
                            "token": notice_token(notice),
                        },
                    },
                    f"firelane:decision:{notice.pk}:sms",
                    case.number,
                )
            ]
        )
    return notice


def notice_waive(*, notice: Notice, now: datetime | None = None) -> Notice:
    """The owner waives their statement on the page: the decision is made at once with
    the notice's amount (signed, in law, by the officer who issued the notice). Refused
    once the case was stated, waived, decided or the period ended."""
    now = now or timezone.now()
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=notice.case_id)
        locked = Notice.objects.select_for_update().get(pk=notice.pk)
        if not statement_open(notice=locked, case=case, now=now):
            raise NoticeError(NoticeErrorCode.INVALID_STATE)
        locked.statement_waived_at = now
        locked.save(update_fields=["statement_waived_at"])
        return _decision_make(
            notice=locked,
            case=case,
            officer=locked.issued_by,
            action="waive",
            fine_fen=locked.amount_fen,
            now=now,
        )


def notices_decide_due(*, now: datetime | None = None, limit: int = 200) -> int:
    """The sweep: every served notice whose statement period ended with nothing stated
    gets its decision (the notice's amount). Idempotent: a notice is decided once (the
    case leaves `noticed` under its lock). Returns how many were decided."""
    now = now or timezone.now()
    due = list(
        Notice.objects.filter(
            case__state=NOTICED, statement_due_at__lt=now, decision_number__isnull=True
        ).values_list("pk", flat=True)[:limit]
    )
    decided = 0
    for pk in due:
        with transaction.atomic():
            notice = Notice.objects.select_for_update().select_related("issued_by").get(pk=pk)
            case = Case.objects.select_for_update().get(pk=notice.case_id)
            if case.state != NOTICED or notice.decision_number:
                continue
            _decision_make(
                notice=notice,
                case=case,
                officer=notice.issued_by,
                action="decide",
                fine_fen=notice.amount_fen,
                now=now,
            )
            decided += 1
    return decided


def notice_amount_due(*, notice: Notice, today: date | None = None) -> tuple[int, int]:
    """(the fine, the late surcharge so far) in fen of a decided notice; (0, 0) before
    the decision. The surcharge counts from the day after `pay_due_on` (第七十二条)."""
    if notice.fine_fen is None or notice.pay_due_on is None:
        return 0, 0
    today = today or timezone.localdate()
    return notice.fine_fen, late_fee_fen(
        fine_fen=notice.fine_fen, due=notice.pay_due_on, today=today
    )


def notice_mark_paid(payment: Payment) -> None:
    """The payment provider confirmed the fine: the notice is paid and the case closes.
    Called inside the payment's transaction, once per paid payment."""
    notice = Notice.objects.select_for_update().get(pk=payment.notice_id)
    if notice.paid_at is not None:
        return
    notice.paid_at = payment.paid_at or timezone.now()
    notice.paid_fen = payment.amount_fen
    local = timezone.localtime(notice.paid_at)
    serial = case_numbers_allocate(prefix="XFJK", year=local.year)[0].rsplit("-", 1)[1]
    notice.receipt_number = f"温消缴〔{local.year}〕{serial}号"
    notice.save(update_fields=["paid_at", "paid_fen", "receipt_number"])
    case = Case.objects.get(pk=notice.case_id)
    if case.state == DECIDED:
        transition(
            case=case,
            action="paid",
            actor=None,
            note=gettext("已缴纳罚款 %(yuan)s 元") % {"yuan": fen_to_yuan(payment.amount_fen)},
            data={"out_trade_no": payment.out_trade_no, "amount_fen": payment.amount_fen},
            via=VIA,
        )
    else:
        logger.warning("Notice %s paid while its case is %s", notice.number, case.state)
