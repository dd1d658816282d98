"""The hash chain of a case's timeline.

Each entry's hash is SHA-256 over a canonical JSON encoding of the entry (sorted keys,
no whitespace, UTF-8, times in UTC to the microsecond) that includes the previous
entry's hash. The first entry chains to GENESIS, which is derived from the case number,
so an entry cannot be moved to another case unnoticed.

The chain also vouches for the case row itself: the opening entry records the body's
SHA-256, the title and a keyed digest of the contact; every entry records the digests
of its attachments; a result entry records the result's SHA-256 (older ones carry the
result as their note); a rating entry records the rating and its note is the comment.
`case_check` compares the row with what the chain recorded and names the field, and
`files_check` reads each attachment's stored bytes back against the digest the chain
recorded (a photo swapped on disk or in the bucket verifies nowhere else).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from civicloop.core import registry
from civicloop.core.accounts.crypto import lookup_digest
from civicloop.core.attachments.models import Attachment
from civicloop.core.attachments.services import attachment_digest
from civicloop.core.cases.models import Case, TimelineEntry
from civicloop.core.cases.workflow import Effect, WorkflowTemplate


def genesis_hash(case_number: str) -> str:
    return hashlib.sha256(f"civicloop-genesis:{case_number}".encode()).hexdigest()


def text_sha256(text: str) -> str:
    """The SHA-256 the chain records of a text (a body, a result)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def contact_digest(*, name: str, phone: str) -> str:
    """The digest the opening entry records of the citizen's contact. Keyed (a plain
    SHA-256 of an 11-digit phone is reversed by trying them all), so it reveals nothing
    alone; the key is the newest lookup key, as for `contact_phone_digest`."""
    return lookup_digest(f"{name}\n{phone}")


def canonical_bytes(
    *,
    case_number: str,
    seq: int,
    action: str,
    from_state: str,
    to_state: str,
    actor_id: int | None,
    actor_label: str,
    unit_id: int | None,
    note: str,
    data: dict[str, Any],
    attachment_digests: Sequence[str],
    created_at: datetime,
    prev_hash: str,
) -> bytes:
    payload = {
        "case": case_number,
        "seq": seq,
        "action": action,
        "from": from_state,
        "to": to_state,
        "actor": actor_id,
        "actor_label": actor_label,
        "unit": unit_id,
        "note": note,
        "data": data,
        "attachments": sorted(attachment_digests),
        "at": created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "prev": prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def entry_hash(entry: TimelineEntry, *, case_number: str) -> str:
    return hashlib.sha256(
        canonical_bytes(
            case_number=case_number,
            seq=entry.seq,
            action=entry.action,
            from_state=entry.from_state,
            to_state=entry.to_state,
            actor_id=entry.actor_id,
            actor_label=entry.actor_label,
            unit_id=entry.unit_id,
            note=entry.note,
            data=entry.data,
            attachment_digests=entry.attachment_digests,
            created_at=entry.created_at,
            prev_hash=entry.prev_hash,
        )
    ).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    case_number: str
    seq: int
    reason: str
    # The case field that no longer matches the chain; empty when the chain itself broke.
    field: str = ""

    def __str__(self) -> str:
        if self.field:
            return (
                f"{self.case_number}: field {self.field} does not match the chain"
                f" (entry #{self.seq} {self.reason})"
            )
        return f"{self.case_number}: entry #{self.seq} {self.reason}"


def chain_check(case_number: str, entries: Iterable[TimelineEntry]) -> ChainBreak | None:
    """Return the first broken entry of one case's chain, or None when it holds.

    Detects an edited entry (its hash no longer matches its content), a removed or
    reordered entry (seq gap, or prev_hash not the previous entry's hash)."""
    prev = genesis_hash(case_number)
    expected_seq = 1
    for entry in entries:
        if entry.seq != expected_seq:
            return ChainBreak(case_number, expected_seq, f"is missing (found #{entry.seq} next)")
        if entry.prev_hash != prev:
            return ChainBreak(case_number, entry.seq, "does not link to the entry before it")
        if entry_hash(entry, case_number=case_number) != entry.hash:
            return ChainBreak(case_number, entry.seq, "was altered (hash mismatch)")
        prev = entry.hash
        expected_seq += 1
    return None


def _template(code: str) -> WorkflowTemplate | None:
    try:
        return registry.workflow(code)
    except registry.RegistryError:
        return None


def _has_effect(template: WorkflowTemplate | None, action: str, effect: Effect) -> bool:
    if template is None:
        return False
    try:
        return effect in template.action(action).effects
    except KeyError:
        return False


def case_check(
    case: Case,
    entries: Sequence[TimelineEntry],
    *,
    linked_digests: dict[int, list[str]],
) -> ChainBreak | None:
    """Return the first case field that differs from what its (intact) chain recorded,
    or None when the row matches.

    `linked_digests` maps an entry id to the SHA-256 of the attachments linked to it
    now. Which entries set the result or the rating is read from the workflow template;
    a case whose template is not registered (its module disabled) is checked only for
    what the entries record themselves (body, title, contact, attachments, result)."""
    number = case.number
    if entries:
        opened = entries[0]
        recorded = opened.data
        if "body_sha256" in recorded and recorded["body_sha256"] != text_sha256(case.body):
            return ChainBreak(number, opened.seq, "records body_sha256", "body")
        if "title" in recorded and recorded["title"] != case.title:
            return ChainBreak(number, opened.seq, "records the title", "title")
        if "contact_digest" in recorded and recorded["contact_digest"] != contact_digest(
            name=case.contact_name, phone=case.contact_phone
        ):
            return ChainBreak(number, opened.seq, "records contact_digest", "contact")
    for entry in entries:
        if sorted(linked_digests.get(entry.pk, [])) != sorted(entry.attachment_digests):
            return ChainBreak(number, entry.seq, "records other attachment digests", "attachments")

    template = _template(case.workflow)
    result: tuple[int, str] | None = None
    rating: tuple[int, str, str] | None = None
    for entry in entries:
        if "result_sha256" in entry.data:
            result = (entry.seq, str(entry.data["result_sha256"]))
        elif _has_effect(template, entry.action, Effect.SET_RESULT):
            result = (entry.seq, text_sha256(entry.note))
        if _has_effect(template, entry.action, Effect.RATE):
            rating = (entry.seq, str(entry.data.get("rating", "")), entry.note)
    last = entries[-1].seq if entries else 0
    if result is not None and result[1] != text_sha256(case.result):
        return ChainBreak(number, result[0], "records the result", "result")
    if result is None and template is not None and case.result:
        return ChainBreak(number, last, "records no result", "result")
    if rating is not None:
        if rating[1] != case.rating:
            return ChainBreak(number, rating[0], "records the rating", "rating")
        if rating[2] != case.rating_comment:
            return ChainBreak(number, rating[0], "records the comment", "rating_comment")
    elif template is not None and (case.rating or case.rating_comment):
        return ChainBreak(number, last, "records no rating", "rating")
    return None


def files_check(
    case_number: str,
    entries: Sequence[TimelineEntry],
    *,
    stored: dict[int, list[Attachment]],
    read: dict[object, str | None],
) -> ChainBreak | None:
    """Return the first entry holding an attachment whose bytes on storage no longer
    hash to the digest the chain recorded (or that is gone from storage), or None.

    `stored` maps an entry id to the attachments linked to it; `read` caches each
    attachment's digest as read from storage (None: the file is missing), so a file
    linked to several entries is read once."""
    for entry in entries:
        for attachment in stored.get(entry.pk, []):
            if attachment.pk not in read:
                try:
                    read[attachment.pk] = attachment_digest(attachment)
                except OSError:
                    read[attachment.pk] = None
            digest = read[attachment.pk]
            if digest is None:
                return ChainBreak(
                    case_number,
                    entry.seq,
                    f"links {attachment.file.name}, which is missing from storage",
                    "attachment_file",
                )
            if digest not in entry.attachment_digests:
                return ChainBreak(
                    case_number,
                    entry.seq,
                    f"links {attachment.file.name}, whose stored bytes have another digest",
                    "attachment_file",
                )
    return None


# The case columns case_check compares with the chain.
_CHECKED_FIELDS = (
    "number",
    "workflow",
    "title",
    "body",
    "result",
    "rating",
    "rating_comment",
    "contact_name",
    "contact_phone",
)


def chains_verify(*, batch_size: int = 2000, files: bool = True) -> tuple[int, list[ChainBreak]]:
    """Check every case's chain, then every field the chain vouches for against the case
    row, then (with `files`) every linked attachment's stored bytes against its recorded
    digest; return (cases checked, breaks: one per broken case, the chain's first)."""
    breaks: list[ChainBreak] = []
    checked = 0
    last_id = 0
    through = TimelineEntry.attachments.through
    while True:
        cases = list(
            Case.objects.filter(id__gt=last_id).order_by("id").only(*_CHECKED_FIELDS)[:batch_size]
        )
        if not cases:
            break
        ids = [case.pk for case in cases]
        by_case: dict[int, list[TimelineEntry]] = {cid: [] for cid in ids}
        for entry in TimelineEntry.objects.filter(case_id__in=ids).order_by("case_id", "seq"):
            by_case[entry.case_id].append(entry)
        linked: dict[int, list[str]] = {}
        stored: dict[int, list[Attachment]] = {}
        for link in through.objects.filter(timelineentry__case_id__in=ids).select_related(
            "attachment"
        ):
            linked.setdefault(link.timelineentry_id, []).append(link.attachment.sha256)
            stored.setdefault(link.timelineentry_id, []).append(link.attachment)
        read: dict[object, str | None] = {}
        for case in cases:
            checked += 1
            entries = by_case[case.pk]
            found = (
                chain_check(case.number, entries)
                or case_check(case, entries, linked_digests=linked)
                or (files_check(case.number, entries, stored=stored, read=read) if files else None)
            )
            if found is not None:
                breaks.append(found)
        last_id = cases[-1].pk
    return checked, breaks
