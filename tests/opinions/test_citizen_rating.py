"""The citizen's own rating counts on the 民意 loop.

Given a closed opinion, when the citizen rates it 不满意 on the tracking page, then the
rating is chained in the timeline, the deputy's inbox lists it under 群众不满意，待回访,
the station and the deputy get a DingTalk notice through the outbox, and the 满意率
follows the citizen's word; a 回访 recorded by the deputy takes it out of that list."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from civicloop.core.cases.errors import CaseError
from civicloop.core.cases.models import Case, TimelineEntry
from civicloop.core.cases.services import CITIZEN_LABEL
from civicloop.core.cases.timeline import entry_hash
from civicloop.core.outbox.models import OutboxMessage
from civicloop.opinions.services import (
    opinion_act,
    opinion_citizen_rate,
    opinion_follow_up_record,
)
from civicloop.opinions.stats import StatsScope, opinion_stats
from tests.opinions.test_inbox import act, dispatched, make_opinion, user  # noqa: F401
from tests.opinions.test_stats import only_code_cases
from tests.opinions.test_submit import deputy_code, opinion_settings, wang  # noqa: F401
from tests.opinions.test_track import closed_case, sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sms_inbox")]

COMMENT = "红绿灯装了但时长太短"


def unsatisfied_case(make_opinion: Any) -> Case:  # noqa: F811
    case = closed_case(make_opinion)  # the deputy rated the unit's result 满意
    return opinion_citizen_rate(case=case, rating="unsatisfied", comment=COMMENT)


def section(sections: list[Any], key: str) -> Any:
    return next(s for s in sections if s.key == key)


def unsatisfied_notices(case: Case) -> list[OutboxMessage]:
    return [
        m
        for m in OutboxMessage.objects.filter(reference=case.number, kind="dingtalk_work")
        if m.idempotency_key.endswith(":unsatisfied")
    ]


# --------------------------------------------------------------------------- (a) the chain


def test_unsatisfied_is_a_chained_timeline_entry_and_the_case_stays_closed(
    client: Client,
    make_opinion: Any,  # noqa: F811
) -> None:
    case = closed_case(make_opinion)
    sign_in(client, case)
    r = client.post(f"/track/{case.number}/", {"rating": "unsatisfied", "comment": COMMENT})
    assert r.status_code == 302
    case.refresh_from_db()
    *earlier, last = TimelineEntry.objects.filter(case=case).order_by("seq")
    assert last.action == "citizen_rating"
    assert last.data["rating"] == "unsatisfied" and last.data["comment"] == COMMENT
    assert last.actor is None and last.actor_label == CITIZEN_LABEL  # the citizen, not 系统
    assert last.prev_hash == earlier[-1].hash
    assert last.hash == entry_hash(last, case_number=case.number) == case.timeline_hash
    assert case.state == "closed"
    page = client.get(f"/track/{case.number}/").content.decode()
    assert "data-follow-up-pending" in page


# --------------------------------------------------------------------------- (b) the inbox


def test_unsatisfied_has_its_own_inbox_section_and_satisfied_does_not(
    client: Client,
    make_opinion: Any,  # noqa: F811
) -> None:
    bad = unsatisfied_case(make_opinion)
    good = opinion_citizen_rate(case=closed_case(make_opinion), rating="satisfied")
    basically = opinion_citizen_rate(case=closed_case(make_opinion), rating="basically")
    not_rated = closed_case(make_opinion)
    for username in ("deputy_wang", "station_zeguo"):
        client.force_login(user(username))
        page = client.get("/deputy/inbox/")
        waiting = section(page.context["sections"], "unsatisfied")
        assert [row.case.number for row in waiting.rows] == [bad.number]
        assert waiting.count == 1
        html = page.content.decode()
        assert 'data-section="unsatisfied"' in html and COMMENT in html
        closed = section(page.context["sections"], "closed")
        assert {good.number, basically.number, not_rated.number} <= {
            row.case.number for row in closed.rows
        }


def test_the_case_page_offers_the_follow_up_only_while_it_waits(
    client: Client,
    make_opinion: Any,  # noqa: F811
) -> None:
    bad = unsatisfied_case(make_opinion)
    good = opinion_citizen_rate(case=closed_case(make_opinion), rating="satisfied")
    client.force_login(user("deputy_wang"))
    page = client.get(f"/deputy/inbox/{bad.number}/").content.decode()
    assert 'data-action="follow_up"' in page and 'data-citizen-rating="unsatisfied"' in page
    assert (
        'data-action="follow_up"'
        not in client.get(f"/deputy/inbox/{good.number}/").content.decode()
    )


# --------------------------------------------------------------------------- (c) the outbox


def test_unsatisfied_sends_a_work_notice_to_the_station_and_the_deputy(
    make_opinion: Any,  # noqa: F811
) -> None:
    case = unsatisfied_case(make_opinion)
    (notice,) = unsatisfied_notices(case)
    userids = set(notice.payload["userids"])
    for username in ("deputy_wang", "station_zeguo"):  # the deputy, the station's clerk
        assert user(username).dingtalk_userid in userids
    assert COMMENT in notice.payload["text"]


def test_satisfied_sends_no_notice(make_opinion: Any) -> None:  # noqa: F811
    for rating in ("satisfied", "basically"):
        case = opinion_citizen_rate(case=closed_case(make_opinion), rating=rating)
        assert unsatisfied_notices(case) == []


# --------------------------------------------------------------------------- (d) the figures


def test_the_citizens_rating_takes_precedence_in_the_satisfaction_rate(
    make_opinion: Any,  # noqa: F811
) -> None:
    case = closed_case(make_opinion)  # the deputy rated it 满意
    only_code_cases()
    before = opinion_stats(scope=StatsScope(all=True))
    assert (before.total.rated, before.total.satisfied, before.total.citizen_rated) == (1, 1, 0)
    assert before.total.satisfaction_rate == 100.0

    opinion_citizen_rate(case=case, rating="unsatisfied")
    after = opinion_stats(scope=StatsScope(all=True))
    assert (after.total.rated, after.total.satisfied, after.total.citizen_rated) == (1, 0, 1)
    assert after.total.satisfaction_rate == 0.0
    town = next(f for f in after.per_unit if f.key == str(case.assignee_unit_id))
    assert town.satisfaction_rate == 0.0 and town.citizen_rated == 1
    deputy = next(f for f in after.per_deputy if f.key == str(case.data["deputy_id"]))
    assert deputy.satisfaction_rate == 0.0


def test_a_citizen_rating_counts_where_the_deputy_gave_none(
    make_opinion: Any,  # noqa: F811
) -> None:
    answered = make_opinion()
    act(answered, "answer", "deputy_wang", note="已协调，下周施工。")  # closed, not rated
    only_code_cases()
    assert opinion_stats(scope=StatsScope(all=True)).total.rated == 0
    opinion_citizen_rate(case=answered, rating="basically")
    figures = opinion_stats(scope=StatsScope(all=True)).total
    assert (figures.rated, figures.satisfied, figures.satisfaction_rate) == (1, 1, 100.0)


def test_the_stats_page_shows_the_citizens_share(client: Client, make_opinion: Any) -> None:  # noqa: F811
    unsatisfied_case(make_opinion)
    client.force_login(user("npc_office"))
    page = client.get("/opinions/stats/")
    assert page.status_code == 200 and "data-citizen-rated" in page.content.decode()


# --------------------------------------------------------------------------- the 回访


def test_the_deputy_records_a_follow_up_and_the_case_leaves_the_section(
    client: Client,
    make_opinion: Any,  # noqa: F811
) -> None:
    case = unsatisfied_case(make_opinion)
    client.force_login(user("deputy_wang"))
    url = f"/deputy/inbox/{case.number}/act/follow_up/"
    refused = client.post(url, {"note": "", "idempotency_key": "k1"})
    assert refused.status_code == 400
    note = "已电话回访，协调交警延长绿灯时长。"
    assert client.post(url, {"note": note, "idempotency_key": "k2"}).status_code == 302
    case.refresh_from_db()
    *earlier, last = TimelineEntry.objects.filter(case=case).order_by("seq")
    assert last.action == "follow_up" and last.note == note
    assert last.actor_id == user("deputy_wang").pk
    assert last.prev_hash == earlier[-1].hash and last.hash == case.timeline_hash
    assert case.state == "closed" and case.data["follow_up"]
    waiting = section(client.get("/deputy/inbox/").context["sections"], "unsatisfied")
    assert waiting.count == 0
    # Once only; and the citizen sees it on the tracking page.
    assert client.post(url, {"note": note, "idempotency_key": "k3"}).status_code == 400
    citizen = Client()
    sign_in(citizen, case)
    page = citizen.get(f"/track/{case.number}/").content.decode()
    assert "回访" in page and note in page and "data-follow-up-pending" not in page


def test_only_the_inbox_owner_records_a_follow_up_of_an_unsatisfied_rating(
    make_opinion: Any,  # noqa: F811
) -> None:
    bad = unsatisfied_case(make_opinion)
    with pytest.raises(CaseError):
        opinion_follow_up_record(case=bad, actor=user("handler_zeguo"), note="已回访")
    good = opinion_citizen_rate(case=closed_case(make_opinion), rating="satisfied")
    with pytest.raises(CaseError):
        opinion_follow_up_record(case=good, actor=user("deputy_wang"), note="已回访")
    # Workflow actions are still refused on the closed case: it is not reopened.
    with pytest.raises(CaseError):
        opinion_act(case=bad, action="rework", actor=user("deputy_wang"), note="重办")
