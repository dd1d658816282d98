"""Seed every year the installed chinese-calendar library knows (2004 onward).

Later library upgrades are applied with `manage.py seed_calendar`, not by editing
this migration. Running processes are restarted on deploy, so no cache is bumped.
"""

from django.db import migrations


def seed(apps, schema_editor):
    from civicloop.core.sla.calendar_source import seed_from_library

    seed_from_library(apps.get_model("sla", "CalendarYear"), apps.get_model("sla", "CalendarDay"))


def unseed(apps, schema_editor):
    apps.get_model("sla", "CalendarYear").objects.filter(source="chinese_calendar").delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
