"""Reads of 生命通道 that more than one page counts, defined once so that the pages agree
(the dashboard's figures and the officer's review queue)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from civicloop.firelane.models import Site, Stay
from civicloop.firelane.workflow import REVIEW


def stays_awaiting_review(*, sites: QuerySet[Site, Any]) -> QuerySet[Stay]:
    """The stays of `sites` whose case waits for an officer's review of the evidence
    (the workflow's 待审核 state), whether or not the car is still there. The dashboard's
    待审核 figure counts exactly these and the review queue lists exactly these."""
    return Stay.objects.filter(site__in=sites, case__state=REVIEW)
