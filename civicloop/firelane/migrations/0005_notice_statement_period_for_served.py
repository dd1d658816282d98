"""Notices served before the procedure existed have no statement period: they would
neither take a statement nor ever be decided. Give each one still at the notice stage
(case `noticed`) its full period from now, so no owner loses the right to be heard."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def statement_period_start(apps: Any, schema_editor: Any) -> None:
    from django.utils import timezone

    from civicloop.firelane.penalty import statement_due

    notice_model = apps.get_model("firelane", "Notice")
    waiting = notice_model.objects.filter(case__state="noticed", statement_due_at__isnull=True)
    # Only a database with such notices has a working-day calendar to read.
    if waiting.exists():
        waiting.update(statement_due_at=statement_due(served_at=timezone.now()))


class Migration(migrations.Migration):
    dependencies = [("firelane", "0004_notice_procedure")]

    operations = [migrations.RunPython(statement_period_start, migrations.RunPython.noop)]
