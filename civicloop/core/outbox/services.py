"""Writing and delivering outbox messages.

Settings read (all optional):
    OUTBOX_MAX_ATTEMPTS            attempts before a message is dead (default 8)
    OUTBOX_BACKOFF_BASE_SECONDS    first retry delay (default 30)
    OUTBOX_BACKOFF_CAP_SECONDS     longest retry delay (default 3600)
    OUTBOX_LEASE_SECONDS           how long a worker owns a message it is sending
                                   (default 120; must exceed the slowest provider call)
    OUTBOX_PAYLOAD_RETENTION_DAYS  days a sent message keeps its payload (default 7)
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from civicloop import notify
from civicloop.core.accounts.models import PersonalDataAccess
from civicloop.core.bulk_writes import bulk_insert_rows
from civicloop.core.jobs import run_after_commit
from civicloop.core.outbox.models import OutboxMessage, outbox_audit_labels

logger = logging.getLogger(__name__)

DELIVER_TASK = "civicloop.core.outbox.tasks.outbox_deliver_task"
SWEEP_TASK = "civicloop.core.outbox.tasks.outbox_sweep"
PURGE_TASK = "civicloop.core.outbox.tasks.outbox_payload_purge"
Status = OutboxMessage.Status


def _max_attempts() -> int:
    return int(getattr(settings, "OUTBOX_MAX_ATTEMPTS", 8))


def _lease() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "OUTBOX_LEASE_SECONDS", 120)))


def outbox_backoff(*, attempts: int) -> timedelta:
    """Delay before the next try after `attempts` failed attempts.

    Exponential (base * 2**(attempts-1), capped) with "equal jitter": a random value
    between half and all of it, so receivers recovering from an outage are not hit by
    every retry at once, and each delay is still at least the previous one until the cap.
    """
    base = float(getattr(settings, "OUTBOX_BACKOFF_BASE_SECONDS", 30))
    cap = float(getattr(settings, "OUTBOX_BACKOFF_CAP_SECONDS", 3600))
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))


def outbox_enqueue(
    *,
    kind: str,
    payload: dict[str, Any],
    idempotency_key: str,
    reference: str = "",
    available_at: datetime | None = None,
) -> OutboxMessage:
    """Record a message to send, in the caller's transaction, and hint a worker.

    Call it inside the transaction that makes the state change, so the change and the
    message commit together or not at all; outside a transaction it commits on its own.
    Guarantees: one row per `idempotency_key` (a repeat returns the existing row, its
    payload unchanged); the delivery hint is sent only after commit, never on rollback;
    the row is delivered no earlier than `available_at`.
    """
    if kind not in notify.KINDS:
        raise ValueError(f"Unknown notification kind {kind!r}; expected one of {notify.KINDS}")
    # atomic(): a savepoint inside the caller's transaction, so a duplicate key's
    # IntegrityError inside get_or_create does not break the caller's transaction.
    with transaction.atomic():
        message, created = OutboxMessage.objects.get_or_create(
            idempotency_key=idempotency_key,
            defaults={
                "kind": kind,
                "payload": payload,
                "reference": reference,
                "available_at": available_at or timezone.now(),
            },
        )
    if created:
        if available_at is None or available_at <= timezone.now():
            run_after_commit(DELIVER_TASK, message.pk)
        # A later available_at needs no hint: the sweep delivers it when it is due.
    else:
        logger.debug("Outbox key %s already enqueued as #%s", idempotency_key, message.pk)
    return message


@dataclass(frozen=True)
class OutboxDraft:
    """A message to enqueue; see outbox_enqueue for the meaning of each field."""

    kind: str
    payload: dict[str, Any]
    idempotency_key: str
    reference: str = ""


def outbox_enqueue_many(*, drafts: Sequence[OutboxDraft]) -> int:
    """Record many messages in the caller's transaction with one INSERT; returns how many
    were new. Same guarantees as outbox_enqueue (one row per key, a key already present
    keeps its first payload); a single sweep hint is sent after commit instead of one
    per message, so a batch of thousands costs one job."""
    if not drafts:
        return 0
    for draft in drafts:
        if draft.kind not in notify.KINDS:
            raise ValueError(
                f"Unknown notification kind {draft.kind!r}; expected one of {notify.KINDS}"
            )
    now = timezone.now()
    keys = [d.idempotency_key for d in drafts]
    existing = set(
        OutboxMessage.objects.filter(idempotency_key__in=keys).values_list(
            "idempotency_key", flat=True
        )
    )
    seen: set[str] = set()
    rows = []
    for draft in drafts:
        if draft.idempotency_key in existing or draft.idempotency_key in seen:
            continue
        seen.add(draft.idempotency_key)
        # bulk_create skips save(): the clear audit columns are filled here.
        template, recipient = outbox_audit_labels(kind=draft.kind, payload=draft.payload)
        rows.append(
            OutboxMessage(
                kind=draft.kind,
                payload=draft.payload,
                template=template,
                recipient=recipient,
                idempotency_key=draft.idempotency_key,
                reference=draft.reference,
                available_at=now,
            )
        )
    # ignore_conflicts: a concurrent writer of the same key wins quietly, as in get_or_create.
    bulk_insert_rows(rows, ignore_conflicts=True)
    if rows:
        run_after_commit(SWEEP_TASK)
    return len(rows)


def _claim(message_id: int, now: datetime) -> OutboxMessage | None:
    """Take the lease on a due message and return it, or None if it is not ours to send.

    One conditional UPDATE decides: on PostgreSQL a concurrent claimer blocks on the
    row and re-checks the condition after our commit, on SQLite writes are serialised,
    so exactly one claimer wins. Works in autocommit, where it commits at once so other
    workers see the lease before the slow provider call starts.
    """
    due = Q(status=Status.PENDING, available_at__lte=now) | Q(
        status=Status.SENDING, locked_until__lt=now
    )
    won = OutboxMessage.objects.filter(due, pk=message_id, attempts__lt=_max_attempts()).update(
        status=Status.SENDING, locked_until=now + _lease(), attempts=F("attempts") + 1
    )
    if not won:
        return None
    # The lease is ours until it expires, so this read sees our own attempt number.
    return OutboxMessage.objects.get(pk=message_id)


def outbox_deliver(*, message_id: int) -> bool:
    """Try to deliver one message now; return True if it is sent after this call.

    Call it outside a transaction: the claim commits before the provider is called and
    the provider call holds no database lock. Guarantees: a message already sent, dead,
    not yet due or leased by another worker is left alone (returns True only if sent);
    at most one worker holds a lease at a time; each attempt carries the message's
    idempotency key, so a repeat after a crash is dropped by the receiver.
    Transient failure: back to pending with a growing back-off, dead after
    OUTBOX_MAX_ATTEMPTS. Permanent failure: dead at once.
    """
    now = timezone.now()
    message = _claim(message_id, now)
    if message is None:
        return OutboxMessage.objects.filter(pk=message_id, status=Status.SENT).exists()
    attempt = message.attempts
    try:
        provider_id = notify.deliver(
            message.kind, message.payload, idempotency_key=message.idempotency_key
        )
    except notify.PermanentDeliveryError as exc:
        _fail(message, attempt, exc, dead=True)
        return False
    except Exception as exc:
        # TransientDeliveryError, and any unexpected error: retrying is the safe choice,
        # and the attempt limit stops a message that always fails.
        if not isinstance(exc, notify.TransientDeliveryError):
            logger.exception("Unexpected error delivering outbox #%s", message_id)
        _fail(message, attempt, exc, dead=attempt >= _max_attempts())
        return False
    # Not fenced by the attempt number: the provider accepted the message, so "sent" is
    # true even if our lease expired meanwhile and another attempt is in flight.
    OutboxMessage.objects.filter(pk=message_id).exclude(status=Status.SENT).update(
        status=Status.SENT,
        provider_id=str(provider_id or "")[:200],
        sent_at=timezone.now(),
        locked_until=None,
        last_error="",
    )
    return True


# An adapter's error may quote the phone it refused; last_error is kept in clear.
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")


def _fail(message: OutboxMessage, attempt: int, exc: BaseException, *, dead: bool) -> None:
    error = _MOBILE_IN_TEXT.sub(r"\1****\2", f"{type(exc).__name__}: {exc}")[:2000]
    fields: dict[str, Any] = {"last_error": error, "locked_until": None}
    if dead:
        fields["status"] = Status.DEAD
        logger.warning("Outbox #%s dead after attempt %d: %s", message.pk, attempt, error)
    else:
        fields["status"] = Status.PENDING
        fields["available_at"] = timezone.now() + outbox_backoff(attempts=attempt)
        logger.info("Outbox #%s attempt %d failed, will retry: %s", message.pk, attempt, error)
    # Fenced: only the holder of this attempt may record its failure; if our lease ran
    # out and another worker claimed the row, its outcome wins.
    updated = OutboxMessage.objects.filter(
        pk=message.pk, status=Status.SENDING, attempts=attempt
    ).update(**fields)
    if not updated:
        logger.info("Outbox #%s attempt %d outcome discarded (lease lost)", message.pk, attempt)


def outbox_sweep(*, limit: int = 500) -> int:
    """Deliver what no hint delivered; return how many messages it sent.

    Picks due pending messages (hint lost, retry due, scheduled for later) and messages
    whose lease expired (the worker died mid-delivery), oldest first, at most `limit`.
    A message whose lease expired on its last allowed attempt becomes dead. Safe to run
    concurrently with workers and with itself: each message is claimed before sending.
    """
    now = timezone.now()
    expired = Q(status=Status.SENDING, locked_until__lt=now)
    OutboxMessage.objects.filter(expired, attempts__gte=_max_attempts()).update(
        status=Status.DEAD,
        locked_until=None,
        last_error="Worker lost during the last allowed attempt",
    )
    due_ids = list(
        OutboxMessage.objects.filter(Q(status=Status.PENDING, available_at__lte=now) | expired)
        .order_by("available_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    sent = 0
    for message_id in due_ids:
        try:
            if outbox_deliver(message_id=message_id):
                sent += 1
        except Exception:
            # One broken row (or a database hiccup) must not stop the rest of the sweep.
            logger.exception("Sweep could not deliver outbox #%s", message_id)
    if due_ids:
        logger.info("Outbox sweep: %d due, %d sent", len(due_ids), sent)
    return sent


def outbox_retry(*, message_id: int) -> bool:
    """Revive a dead letter for another full round of attempts; return False otherwise.

    For administrators after fixing the cause (phone number, template, receiver). Only a
    dead message changes; it keeps its idempotency key, so a receiver that did get an
    earlier attempt drops the repeat. The delivery hint is sent after commit.
    """
    with transaction.atomic():
        revived = OutboxMessage.objects.filter(pk=message_id, status=Status.DEAD).update(
            status=Status.PENDING, attempts=0, available_at=timezone.now(), locked_until=None
        )
        if revived:
            run_after_commit(DELIVER_TASK, message_id)
    return bool(revived)


def _retention() -> timedelta:
    return timedelta(days=float(getattr(settings, "OUTBOX_PAYLOAD_RETENTION_DAYS", 7)))


def outbox_payload_purge(*, now: datetime | None = None) -> int:
    """Clear the payload of messages sent more than OUTBOX_PAYLOAD_RETENTION_DAYS ago;
    return how many were cleared.

    Guarantees: only sent messages lose their payload (pending, sending and dead ones
    may still need it to be delivered); the template, masked recipient, times and
    provider id stay for the audit, and `payload_cleared_at` records when it happened.
    Idempotent: a cleared row is not touched again, so running it twice clears nothing
    more. One UPDATE, so it is safe beside workers and beside itself.
    """
    now = now or timezone.now()
    cleared = OutboxMessage.objects.filter(
        status=Status.SENT, sent_at__lt=now - _retention(), payload_cleared_at__isnull=True
    ).update(payload=None, payload_cleared_at=now)
    if cleared:
        logger.info("Outbox retention: cleared the payload of %d sent message(s)", cleared)
    return cleared


def outbox_payload_reveal(*, message_id: int, user: Any, purpose: str = "") -> dict[str, Any]:
    """Return a message's full payload (phone, code, link) and log the read.

    Guarantees: a PersonalDataAccess row naming the user, the message and the purpose is
    written before the payload is returned (principle 5: every unmasked read is logged);
    a payload already cleared by retention returns {} and is still logged as a read.
    Raises OutboxMessage.DoesNotExist for an unknown id. Permission is the caller's.
    """
    message = OutboxMessage.objects.get(pk=message_id)
    PersonalDataAccess.objects.create(
        user=user,
        object_type="outbox",
        object_id=str(message.pk),
        fields="payload",
        purpose=purpose[:200],
    )
    return dict(message.payload or {})
