"""The citizen's tracking page: number + phone + SMS code, progress, answer, own rating."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from civicloop.core.accounts.models import User
from civicloop.core.cases.models import Case, TimelineEntry
from civicloop.core.cases.services import transition
from civicloop.core.cases.timeline import entry_hash, genesis_hash
from civicloop.core.units.models import Unit
from civicloop.opinions.errors import OpinionError
from civicloop.opinions.services import opinion_citizen_rate
from tests.opinions.test_inbox import act, dispatched, make_opinion, user  # noqa: F401
from tests.opinions.test_submit import deputy_code, opinion_settings, wang  # noqa: F401
from tests.sms_inbox import SmsInbox, inbox

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sms_inbox")]


def sign_in(client: Client, case: Case, phone: str | None = None) -> Any:
    phone = phone or case.contact_phone
    r = client.post("/track/", {"send": "1", "number": case.number.lower(), "phone": phone})
    assert r.status_code == 302
    code = inbox().last_code(phone) if inbox().messages(phone) else "000000"
    return client.post("/track/", {"verify": "1", "code": code})


def closed_case(make_opinion: Any) -> Case:  # noqa: F811
    case = dispatched(make_opinion)
    transition(case=case, action="claim", actor=user("handler_zeguo"))
    transition(
        case=case, action="submit_result", actor=user("handler_zeguo"), note="红绿灯已安装完毕。"
    )
    act(case, "rate", "deputy_wang", rating="satisfied")
    case.refresh_from_db()
    return case


def test_progress_and_answer_after_the_sms_code(client: Client, make_opinion: Any) -> None:  # noqa: F811
    case = closed_case(make_opinion)
    r = sign_in(client, case)
    assert r.status_code == 302 and r["Location"] == f"/track/{case.number}/"
    page = client.get(r["Location"]).content.decode()
    assert "红绿灯已安装完毕" in page and "已办结" in page
    assert Unit.objects.get(code="town-331081100").name in page  # units are shown
    staff = User.objects.filter(username__in=["handler_zeguo", "deputy_wang"])
    assert not [u.full_name for u in staff if u.full_name in page]  # staff names are not
    assert "评价办理结果" in page


def test_a_wrong_phone_gets_no_code_and_no_page(
    client: Client,
    make_opinion: Any,  # noqa: F811
    sms_inbox: SmsInbox,
) -> None:
    case = make_opinion()
    r = sign_in(client, case, phone="13700000000")
    assert r.status_code == 400
    assert sms_inbox.messages("13700000000") == []
    assert client.get(f"/track/{case.number}/").status_code == 302


def test_a_wrong_code_is_refused(
    client: Client,
    make_opinion: Any,  # noqa: F811
    sms_inbox: SmsInbox,
) -> None:
    case = make_opinion()
    client.post("/track/", {"send": "1", "number": case.number, "phone": case.contact_phone})
    r = client.post("/track/", {"verify": "1", "code": "999999"})
    if sms_inbox.last_code(case.contact_phone) != "999999":
        assert r.status_code == 400 and "验证码不正确" in r.content.decode()


def test_the_citizen_rates_once_and_the_chain_holds(client: Client, make_opinion: Any) -> None:  # noqa: F811
    case = closed_case(make_opinion)
    sign_in(client, case)
    assert client.post(f"/track/{case.number}/", {"rating": ""}).status_code == 400
    r = client.post(f"/track/{case.number}/", {"rating": "basically", "comment": "还行"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.data["citizen_rating"]["rating"] == "basically"
    page = client.get(f"/track/{case.number}/").content.decode()
    assert "基本满意" in page and "评价办理结果" not in page
    with pytest.raises(OpinionError):
        opinion_citizen_rate(case=case, rating="satisfied")
    entries = list(TimelineEntry.objects.filter(case=case).order_by("seq"))
    assert entries[-1].action == "citizen_rating"
    prev = genesis_hash(case.number)
    for entry in entries:
        assert entry.prev_hash == prev and entry.hash == entry_hash(entry, case_number=case.number)
        prev = entry.hash
    assert case.timeline_hash == prev


def test_no_rating_before_the_case_is_closed(make_opinion: Any) -> None:  # noqa: F811
    case = make_opinion()
    with pytest.raises(OpinionError):
        opinion_citizen_rate(case=case, rating="satisfied")
    with pytest.raises(OpinionError):
        opinion_citizen_rate(case=closed_case(make_opinion), rating="great")
