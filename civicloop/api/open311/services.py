"""Writes of the Open311 endpoint: the log of whole records read with an API key."""

from __future__ import annotations

from collections.abc import Iterable

from civicloop.core.accounts.models import ApiKey, PersonalDataAccess
from civicloop.core.cases.models import Case

FULL_RECORD_FIELDS = "body,address,lat,lng,media_url"


def open311_full_reads_log(*, key: ApiKey, cases: Iterable[Case]) -> int:
    """Record one PersonalDataAccess row per case whose whole record `key` was shown
    (principle 5: every read of a full record is logged). Returns the number logged."""
    rows = [
        PersonalDataAccess(
            api_key=key,
            object_type="case",
            object_id=case.number,
            fields=FULL_RECORD_FIELDS,
            purpose="open311",
        )
        for case in cases
    ]
    PersonalDataAccess.objects.bulk_create(rows)
    return len(rows)
