"""Reading recorded (opened, time spent, finished), the yearly study record and the
代表工委's report of who has not read a required item."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civicloop.bulletins.errors import BulletinError
from civicloop.bulletins.models import ReadRecord
from civicloop.bulletins.selectors import item_pending_deputies, required_report, study_record
from civicloop.bulletins.services import HEARTBEAT_MAX_SECONDS, reading_record
from tests.bulletins.conftest import People

pytestmark = pytest.mark.django_db


def test_open_heartbeat_finish(people: People, publish: Any) -> None:
    item = publish(required=True)
    start = timezone.now()
    reading_record(item=item, user=people.deputy, event="open", now=start)
    reading_record(
        item=item,
        user=people.deputy,
        event="heartbeat",
        seconds=15,
        now=start + timedelta(seconds=15),
    )
    # A beat claiming more than the time since the last one is cut to that time (+5 s).
    reading_record(
        item=item,
        user=people.deputy,
        event="heartbeat",
        seconds=600,
        now=start + timedelta(seconds=25),
    )
    # A long gap still adds at most one beat's maximum.
    done = reading_record(
        item=item, user=people.deputy, event="finish", seconds=999, now=start + timedelta(hours=1)
    )
    assert done.started_at == start
    assert done.finished_at == start + timedelta(hours=1)
    assert done.seconds == 15 + 15 + HEARTBEAT_MAX_SECONDS
    again = reading_record(
        item=item, user=people.deputy, event="finish", now=start + timedelta(hours=2)
    )
    assert again.finished_at == done.finished_at  # finished once
    assert ReadRecord.objects.count() == 1


def test_citizens_do_not_read(people: People, publish: Any) -> None:
    item = publish()
    with pytest.raises(BulletinError):
        reading_record(item=item, user=people.citizen, event="open")


def test_study_record_and_report(people: People, publish: Any) -> None:
    required = publish(title="必读：预算报告", required=True)
    course = publish(title="履职培训", section="learning", category="training")
    now = timezone.now()
    reading_record(item=required, user=people.deputy, event="open", now=now)
    reading_record(
        item=required,
        user=people.deputy,
        event="finish",
        seconds=30,
        now=now + timedelta(seconds=30),
    )
    reading_record(item=course, user=people.deputy, event="open", now=now)
    reading_record(
        item=course,
        user=people.deputy,
        event="heartbeat",
        seconds=60,
        now=now + timedelta(seconds=60),
    )

    record = study_record(user=people.deputy, year=timezone.localdate().year)
    assert (record.required_total, record.required_finished) == (1, 1)
    assert record.learning_seconds == 60 and record.learning_minutes == 1
    assert {row.item.pk for row in record.rows} == {required.pk, course.pk}

    (row,) = required_report(year=timezone.localdate().year)
    assert (row["deputies"], row["finished"], row["not_started"]) == (2, 1, 1)
    pending = item_pending_deputies(item=required)
    assert [p.user.username for p in pending] == ["deputy_001"]
    assert pending[0].started_at is None


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_record_reading_and_show_the_study_record(people: People, publish: Any) -> None:
    item = publish(title="必读：政府工作报告", required=True, summary="摘要")
    deputy = _client(people.deputy)
    listing = deputy.get("/bulletins/")
    assert listing.status_code == 200
    assert "必读：政府工作报告" in listing.content.decode()
    assert "data-unread-required" in listing.content.decode()

    page = deputy.get(f"/bulletins/items/{item.pk}/")
    assert page.status_code == 200 and "我已读完" in page.content.decode()
    assert ReadRecord.objects.get(user=people.deputy).finished_at is None

    finished = deputy.post(f"/bulletins/items/{item.pk}/finish/", {"seconds": "40"})
    assert finished.status_code == 302
    assert ReadRecord.objects.get(user=people.deputy).finished_at is not None

    study = deputy.get("/bulletins/study/").content.decode()
    assert f'data-study-row="{item.pk}"' in study and "1 / 1" in study

    # The deputy may not see another's record, nor the report.
    assert deputy.get(f"/bulletins/study/{people.deputy2.pk}/").status_code == 403
    assert deputy.get("/bulletins/report/").status_code == 403

    office = _client(people.editor)
    report = office.get("/bulletins/report/").content.decode()
    assert "1 / 2" in report
    who = office.get(f"/bulletins/report/{item.pk}/").content.decode()
    assert 'data-pending="deputy_001"' in who and 'data-pending="deputy_wang"' not in who
    assert office.get(f"/bulletins/study/{people.deputy.pk}/").status_code == 200


def test_lists_filter_by_section_category_tag(people: People, publish: Any) -> None:
    publish(title="预算A", category="budget", tags="预算")
    publish(title="课程B", section="learning", category="training")
    client = _client(people.handler)
    assert "课程B" not in client.get("/bulletins/?section=ezhi").content.decode()
    assert "预算A" not in client.get("/bulletins/?section=learning").content.decode()
    assert "课程B" not in client.get("/bulletins/?category=budget").content.decode()
    tagged = client.get("/bulletins/?tag=预算").content.decode()
    assert "预算A" in tagged and "课程B" not in tagged
    searched = client.get("/bulletins/?q=课程").content.decode()
    assert "课程B" in searched and "预算A" not in searched


def test_pages_refuse_citizens_and_strangers(people: People, publish: Any) -> None:
    item = publish()
    assert Client().get("/bulletins/").status_code == 302
    for user in (people.citizen, people.outsider):
        client = _client(user)
        assert client.get("/bulletins/").status_code == 403
        assert client.get(f"/bulletins/items/{item.pk}/").status_code == 403


def test_list_queries_are_bounded(
    people: People, publish: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(8):
        publish(title=f"政府工作报告{i}", tags=f"标签{i} 共同")
    client = _client(people.deputy)
    with django_assert_max_num_queries(14):
        assert client.get("/bulletins/?q=政府工作").status_code == 200


def test_reminders_go_to_who_has_not_finished_once(people: People, publish: Any) -> None:
    from civicloop.bulletins.services import required_reminders_send
    from civicloop.core.outbox.models import OutboxMessage

    today = timezone.localdate()
    item = publish(title="必读通知", required=True, due_date=today + timedelta(days=2))
    publish(title="远期必读", required=True, due_date=today + timedelta(days=30))
    reading_record(item=item, user=people.deputy, event="finish")
    OutboxMessage.objects.all().delete()  # the publish notices

    assert required_reminders_send() == 1
    (message,) = OutboxMessage.objects.all()
    assert message.payload["userids"] == ["ding-001"]
    assert required_reminders_send() == 0  # a second sweep sends nothing again


def test_cockpit_tile(people: People, publish: Any) -> None:
    from civicloop.bulletins.selectors import cockpit_figures

    item = publish(required=True)
    reading_record(item=item, user=people.deputy, event="finish")
    now = timezone.now()
    figures = cockpit_figures(user=people.editor, now=now)
    assert figures is not None
    values = [f.value for f in figures]
    assert values[:3] == [1, 1, "50%"]
    assert cockpit_figures(user=people.deputy, now=now) is None
