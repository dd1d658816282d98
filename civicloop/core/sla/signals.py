"""Any change to the calendar table, from wherever it comes, invalidates the caches.

Queryset `update()` and `bulk_create()` send no signals; code using them (the
seeding, the services) calls `calendar_changed()` itself.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from civicloop.core.sla.models import CalendarDay, CalendarYear
from civicloop.core.sla.working_days import calendar_changed


@receiver(post_save, sender=CalendarYear)
@receiver(post_delete, sender=CalendarYear)
@receiver(post_save, sender=CalendarDay)
@receiver(post_delete, sender=CalendarDay)
def _calendar_row_changed(sender: type, **kwargs: Any) -> None:
    calendar_changed()
