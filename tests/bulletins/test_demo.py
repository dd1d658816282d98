"""The demo's 20 e线知政 and 10 学习园地 items with files and readings; idempotent, and
independent of the 民意 module's demo (it makes its own deputies when there are none)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Count

from civicloop.bulletins.demo import demo_bulletins_load
from civicloop.bulletins.models import Item, ItemFile, ItemVideo, ReadRecord
from civicloop.bulletins.selectors import ItemFilters, deputy_users, items_for
from civicloop.core.areas.services import areas_import_csv
from civicloop.core.demo import AREAS_CSV, DEMO_LOGINS, UNITS_CSV, demo_user_ensure
from civicloop.core.outbox.models import OutboxMessage
from civicloop.core.units.services import units_import_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(db: None, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    with AREAS_CSV.open(encoding="utf-8") as f:
        areas_import_csv(stream=f)
    with UNITS_CSV.open(encoding="utf-8") as f:
        units_import_csv(stream=f)
    for login in DEMO_LOGINS:
        demo_user_ensure(login)


def _counts() -> tuple[int, ...]:
    return (
        Item.objects.count(),
        ItemFile.objects.count(),
        ItemVideo.objects.count(),
        ReadRecord.objects.count(),
        deputy_users().count(),
    )


def test_demo_items_files_and_readings_twice(city: None) -> None:
    demo_bulletins_load(lambda _m: None)
    sections = dict(Item.objects.values_list("section").annotate(n=Count("pk")))
    assert sections == {"ezhi": 20, "learning": 10}
    assert Item.objects.filter(required=True, section="ezhi").count() >= 4
    assert Item.objects.filter(required=True, section="learning").count() >= 3
    assert ItemFile.objects.filter(attachment__content_type="application/pdf").count() >= 6
    assert ItemFile.objects.filter(attachment__kind="photo").count() >= 5
    assert ItemVideo.objects.filter(content_type="video/webm").count() >= 2
    assert deputy_users().filter(username="deputy_wang").exists()
    assert ReadRecord.objects.filter(finished_at__isnull=False).exists()
    assert ReadRecord.objects.filter(finished_at__isnull=True).exists()
    # Some required item is not read by everyone: the report has something to show.
    required = Item.objects.filter(required=True).first()
    assert required is not None
    assert ReadRecord.objects.filter(item=required).count() < deputy_users().count() or any(
        ReadRecord.objects.filter(item=i).count() < deputy_users().count()
        for i in Item.objects.filter(required=True)
    )
    # Old demo items send no notices.
    assert not OutboxMessage.objects.filter(reference__startswith="bulletin-").exists()
    # Search works on the demo text.
    wang = deputy_users().get(username="deputy_wang")
    found = list(items_for(user=wang, filters=ItemFilters(q="政府工作")))
    assert found and found[0].title == "2026年温岭市政府工作报告（全文）"

    before = _counts()
    demo_bulletins_load(lambda _m: None)
    assert _counts() == before
