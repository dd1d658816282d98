"""The hash chain of a case's timeline.

Each entry's hash is SHA-256 over a canonical JSON encoding of the entry (sorted keys,
no whitespace, UTF-8, times in UTC to the microsecond) that includes the previous
entry's hash. The first entry chains to GENESIS, which is derived from the case number,
so an entry cannot be moved to another case unnoticed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from civicloop.core.cases.models import Case, TimelineEntry


def genesis_hash(case_number: str) -> str:
    return hashlib.sha256(f"civicloop-genesis:{case_number}".encode()).hexdigest()


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

    def __str__(self) -> str:
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


def chains_verify(*, batch_size: int = 2000) -> tuple[int, list[ChainBreak]]:
    """Check every case's chain; return (cases checked, breaks: one per broken case)."""
    breaks: list[ChainBreak] = []
    checked = 0
    last_id = 0
    while True:
        cases = list(
            Case.objects.filter(id__gt=last_id)
            .order_by("id")
            .values_list("id", "number")[:batch_size]
        )
        if not cases:
            break
        numbers = dict(cases)
        by_case: dict[int, list[TimelineEntry]] = {cid: [] for cid in numbers}
        for entry in TimelineEntry.objects.filter(case_id__in=numbers.keys()).order_by(
            "case_id", "seq"
        ):
            by_case[entry.case_id].append(entry)
        for cid, number in cases:
            checked += 1
            found = chain_check(number, by_case[cid])
            if found is not None:
                breaks.append(found)
        last_id = cases[-1][0]
    return checked, breaks
