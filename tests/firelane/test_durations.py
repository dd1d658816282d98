"""One duration and one count (civicloop/firelane/models.py `stay_duration_s`,
selectors.py `stays_awaiting_review`): a stay reads the same minutes on the dashboard,
the review queue, the review page and the owner's notice page, and the dashboard's 待审核
is the review queue's length."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from civicloop.core.accounts.models import User
from civicloop.core.cases.models import Case
from civicloop.firelane.enforcement import stay_thresholds_check
from civicloop.firelane.models import Stay, duration_minutes, stay_duration_s
from civicloop.firelane.notices import notice_approve, notice_dismiss, notice_page_url
from civicloop.firelane.tracking import stay_merge
from tests.firelane.conftest import scene_bytes

pytestmark = pytest.mark.django_db

BOX = [0.4, 0.6, 0.55, 0.68]


@pytest.fixture
def officer(demo_city: None) -> User:
    return User.objects.get(username="officer_fire")


@pytest.fixture
def start() -> datetime:
    return timezone.now() - timedelta(minutes=50)


def _park(make_sighting: Callable[..., Any], at: datetime, plate: str, minutes: int) -> Stay:
    """A car seen every two minutes for `minutes` minutes from `at`, thresholds checked
    at each sighting as the tracker does."""
    stay = None
    for s in range(0, minutes * 60 + 1, 120):
        seen_at = at + timedelta(seconds=s)
        sighting = make_sighting(plate, seen_at, scene=scene_bytes(), box=BOX)
        stay = stay_merge(sighting=sighting)
        assert stay is not None
        stay_thresholds_check(stay_id=stay.pk, now=seen_at)
    assert stay is not None
    stay.refresh_from_db()
    return stay


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _dashboard_live(client: Client) -> dict[str, Any]:
    response = client.get("/firelane/dashboard/?site=chuangye")
    assert response.status_code == 200
    return response.context["data"]["live"]["open_stays"]


def _queue(client: Client) -> Any:
    response = client.get("/firelane/review/")
    assert response.status_code == 200
    return response.context


def test_the_definition_is_first_to_last_sighting_in_whole_minutes_rounded_down() -> None:
    t = timezone.now()
    assert stay_duration_s(started_at=t, last_seen_at=t + timedelta(seconds=119.9)) == 119
    assert duration_minutes(119) == 1 and duration_minutes(120) == 2
    assert duration_minutes(59) == 0  # never more than the cameras saw


def test_the_same_stay_reads_the_same_minutes_on_every_page(
    make_sighting: Callable[..., Any],
    registry_records: Any,
    officer: User,
    start: datetime,
    fl_site: Any,
) -> None:
    # Given a car seen for 30 minutes (evidence built at T2 = 30 min) that is still seen
    # four minutes later: the stay lasts 34 minutes, the evidence froze 30.
    registry_records([("浙J12345", "王某", "13900001111")])
    stay = _park(make_sighting, start, "浙J12345", 34)
    assert stay.duration_minutes == 34 and stay.case_id is not None
    case = Case.objects.get(pk=stay.case_id)
    assert case.state == "review"
    client = _client(officer)

    # When the officer looks at the queue and the review page, approves, and the owner
    # opens the notice while the car is still on the lane (50 minutes after it came).
    [queue_row] = _queue(client)["review"]
    review_page = client.get(f"/firelane/review/{case.number}/")
    notice = notice_approve(case=case, officer=officer, amount_fen=20000)
    notice_page = Client().get(notice_page_url(notice))
    [live_row] = _dashboard_live(client)["rows"]

    # Then every page says 34 minutes: not the frozen evidence, not the wall clock.
    assert review_page.status_code == 200 and notice_page.status_code == 200
    assert queue_row["minutes"] == 34
    assert review_page.context["duration_minutes"] == 34
    assert notice_page.context["notice"].minutes == 34
    assert live_row["minutes"] == 34


def test_the_dashboards_awaiting_review_is_the_review_queues_length(
    make_sighting: Callable[..., Any], officer: User, start: datetime, fl_site: Any
) -> None:
    # Given four cars that reached T2: one still there, two that have left (their cases
    # still wait for review), and one whose case the officer dismissed while it is still
    # there.
    waiting = _park(make_sighting, start, "浙J12345", 31)
    left = [_park(make_sighting, start, plate, 31) for plate in ("浙A88888", "鲁C5H839")]
    for stay in left:
        Stay.objects.filter(pk=stay.pk).update(ended_at=stay.last_seen_at)
    dismissed = _park(make_sighting, start, "皖B77M21", 31)
    notice_dismiss(
        case=Case.objects.get(pk=dismissed.case_id), officer=officer, reason="执行任务的工程车"
    )
    assert Case.objects.filter(firelane_stay__in=[waiting, *left], state="review").count() == 3
    client = _client(officer)

    # When the same officer opens the dashboard and the review queue.
    live = _dashboard_live(client)
    queue = _queue(client)

    # Then both count the three cases in review, and the live table marks the open one.
    assert live["awaiting_review"] == queue["review_count"] == len(queue["review"]) == 3
    marks = {row["awaiting_review"] for row in live["rows"]}
    assert len(live["rows"]) == 2 and marks == {True, False}
