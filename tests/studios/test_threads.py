"""协商在线: a thread between a citizen and a member, its steps on the core loop, who may
write in it, the unit's part, rating, and the Open311 `consultation` service."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client

from civicloop.core.accounts.models import User
from civicloop.core.cases.models import Case
from civicloop.core.outbox.models import OutboxMessage
from civicloop.core.units.models import Unit
from civicloop.notify.templates import render as sms_render
from civicloop.studios import services
from civicloop.studios.errors import StudioError, StudioErrorCode
from civicloop.studios.models import Member, Message, Side, Studio, Thread

pytestmark = pytest.mark.django_db


def _open(studio: Studio, phone: str, member: Member | None = None, **kw) -> Thread:
    return services.thread_open(
        studio=studio, member=member, phone=phone, text="孩子上学的学区怎么划分？", **kw
    )


def test_a_thread_is_a_case_of_the_studio_due_in_its_working_days(
    zeguo: Studio, chen: Member, citizen_phone: str
) -> None:
    thread = _open(zeguo, citizen_phone, member=chen)
    case = thread.case
    assert case.channel == "consultation" and case.state == "waiting"
    assert case.owner_unit_id == zeguo.unit_id
    assert case.area_id == zeguo.town_id
    assert case.due_at is not None and case.due_at > case.created_at
    assert [m.side for m in thread.messages.all()] == [Side.CITIZEN]
    assert case.submitter is not None and case.submitter.is_citizen
    # The studio's members are told through DingTalk; the citizen gets a receipt.
    sent = list(OutboxMessage.objects.filter(reference=case.number))
    assert {m.kind for m in sent} == {"dingtalk_work", "sms"}
    ding = [m for m in sent if m.kind == "dingtalk_work"]
    assert chen.user is not None and chen.user.dingtalk_userid in ding[0].payload["userids"]


def test_back_and_forth_then_rating_closes_it(
    zeguo: Studio, chen: Member, citizen_phone: str
) -> None:
    thread = _open(zeguo, citizen_phone, member=chen)
    citizen = thread.case.submitter
    assert chen.user is not None and citizen is not None
    services.thread_message_post(thread=thread, user=chen.user, text="学区方案每年5月公布。")
    thread.refresh_from_db()
    assert thread.first_reply_at is not None
    case = Case.objects.get(pk=thread.case_id)
    assert case.state == "answered" and case.result == "学区方案每年5月公布。"
    # The citizen is told by SMS with the link of the thread.
    replies = [
        m.payload
        for m in OutboxMessage.objects.filter(reference=case.number, kind="sms")
        if m.payload["template"] == "consultation_reply"
    ]
    assert len(replies) == 1 and thread.token in json.dumps(replies[0])
    # What Aliyun will show passes the template's limits and leads to the thread's page.
    text = sms_render("consultation_reply", replies[0]["params"])
    assert f"{settings.SITE_URL}/studios/t/{thread.token}/" in text
    services.thread_message_post(thread=thread, user=citizen, text="谢谢，那新小区呢？")
    services.thread_message_post(thread=thread, user=chen.user, text="新小区同样按方案划分。")
    assert [m.side for m in thread.messages.all()] == ["citizen", "member", "citizen", "member"]
    closed = services.thread_rate(thread=thread, user=citizen, rating="satisfied")
    assert closed.state == "closed" and closed.closed_at is not None
    assert closed.rating == "satisfied"
    with pytest.raises(StudioError) as exc:
        services.thread_message_post(thread=thread, user=citizen, text="再问一个")
    assert exc.value.code == StudioErrorCode.STATE


def test_someone_who_is_no_party_is_refused(
    zeguo: Studio, chen: Member, citizen_phone: str
) -> None:
    thread = _open(zeguo, citizen_phone, member=chen)
    stranger = User.objects.get(username="handler_zeguo")
    other_member = Member.objects.exclude(studio=zeguo).exclude(user=None).first()
    assert other_member is not None and other_member.user is not None
    for user in (stranger, other_member.user):
        with pytest.raises(StudioError) as exc:
            services.thread_message_post(thread=thread, user=user, text="插一句")
        assert exc.value.code == StudioErrorCode.NOT_PARTY
    # A member of the same studio may not answer a thread addressed to a colleague...
    colleague = (
        zeguo.members.exclude(pk=chen.pk).exclude(user=None).exclude(pk=zeguo.head_id).first()
    )
    assert colleague is not None
    with pytest.raises(StudioError):
        services.thread_message_post(thread=thread, user=colleague.user, text="我来答")
    # ...but the studio's head and the CPPCC office may.
    head = zeguo.head
    assert head is not None and head.user is not None
    services.thread_message_post(thread=thread, user=head.user, text="已请陈委员尽快答复。")
    assert thread.messages.count() == 2


def test_a_second_tap_sends_one_message(zeguo: Studio, chen: Member, citizen_phone: str) -> None:
    thread = _open(zeguo, citizen_phone, member=chen)
    assert chen.user is not None
    first = services.thread_message_post(thread=thread, user=chen.user, text="答复", key="k1")
    again = services.thread_message_post(thread=thread, user=chen.user, text="答复", key="k1")
    assert first.pk == again.pk
    assert Message.objects.filter(thread=thread).count() == 2
    twice = _open(zeguo, citizen_phone, submission_key="same")
    assert _open(zeguo, citizen_phone, submission_key="same").pk == twice.pk


def test_passed_to_a_unit_its_result_comes_back_into_the_thread(
    zeguo: Studio, chen: Member, citizen_phone: str
) -> None:
    thread = _open(zeguo, citizen_phone, member=chen)
    assert chen.user is not None
    town = Unit.objects.get(code="town-331081100")
    referral = services.thread_pass(
        thread=thread, user=chen.user, unit=town, note="请镇里核实学区。"
    )
    assert referral.channel == "consultation_referral" and referral.owner_unit_id == town.pk
    assert referral.due_at is not None
    assert Case.objects.get(pk=thread.case_id).state == "with_unit"
    handler = User.objects.get(username="handler_zeguo")
    services.referral_result(referral=referral, user=handler, text="学区已公布在镇政府网站。")
    referral.refresh_from_db()
    assert referral.state == "done" and referral.closed_at is not None
    source = Case.objects.get(pk=thread.case_id)
    assert source.state == "answered" and "学区已公布" in source.result
    last = thread.messages.order_by("-pk").first()
    assert last is not None and last.side == Side.UNIT and "学区已公布" in last.text


def test_the_referral_page_is_the_units_only(
    zeguo: Studio, chen: Member, citizen_phone: str
) -> None:
    thread = _open(zeguo, citizen_phone, member=chen)
    assert chen.user is not None
    referral = services.thread_pass(
        thread=thread, user=chen.user, unit=Unit.objects.get(code="dept-housing"), note="请核实"
    )
    outsider = Client()
    outsider.force_login(User.objects.get(username="handler_zeguo"))
    assert outsider.get(f"/studios/referrals/{referral.number}/").status_code == 403
    unit = Client()
    unit.force_login(User.objects.get(username="handler_housing"))
    assert unit.get(f"/studios/referrals/{referral.number}/").status_code == 200
    unit.post(f"/studios/referrals/{referral.number}/", {"text": "已答复群众。"})
    assert Case.objects.get(pk=thread.case_id).state == "answered"


def test_the_first_reply_deadline_is_the_studios(
    zeguo: Studio, chen: Member, citizen_phone: str
) -> None:
    zeguo.reply_days = 1
    zeguo.save()
    slow = _open(zeguo, citizen_phone, member=chen)
    zeguo.reply_days = 5
    zeguo.save()
    fast = _open(zeguo, citizen_phone, member=chen)
    assert slow.case.due_at is not None and fast.case.due_at is not None
    assert slow.case.due_at < fast.case.due_at


# --------------------------------------------------------------------------- Open311


@pytest.fixture
def api_key(db: None) -> str:
    from civicloop.core.accounts.services import api_key_create

    _key, raw = api_key_create(name="test integration")
    return raw


def test_open311_consultation_creates_a_thread_and_shows_the_reply(
    client: Client, zeguo: Studio, chen: Member, api_key: str
) -> None:
    services_list = json.loads(client.get("/open311/v2/services.json").content)
    assert any(s["service_code"] == "consultation" for s in services_list)
    definition = json.loads(client.get("/open311/v2/services/consultation.json").content)
    assert "studio" in [a["code"] for a in definition["attributes"]]
    response = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": api_key,
            "service_code": "consultation",
            "description": "村里的文化礼堂平时锁着，能不能多开放？",
            "phone": "13957660001",
            "attribute[studio]": str(zeguo.pk),
        },
    )
    assert response.status_code == 201, response.content
    request_id = json.loads(response.content)[0]["service_request_id"]
    case = Case.objects.get(number=request_id)
    assert case.owner_unit_id == zeguo.unit_id and case.area_id == zeguo.town_id
    thread = services.thread_for_case(case=case)
    assert thread.studio_id == zeguo.pk and thread.messages.count() == 1
    # Anyone of the studio may answer a thread sent to the studio as a whole.
    assert chen.user is not None
    services.thread_message_post(thread=thread, user=chen.user, text="周三欢迎来工作室面谈。")
    shown = json.loads(client.get(f"/open311/v2/requests/{request_id}.json").content)[0]
    assert shown["status"] == "open"
    assert shown["status_notes"] == "周三欢迎来工作室面谈。"
    assert "13957660001" not in json.dumps(shown)


@pytest.mark.parametrize("studio", ["", "999999", "abc"])
def test_open311_consultation_without_a_valid_studio_is_400(
    client: Client, studios: list[Studio], api_key: str, studio: str
) -> None:
    response = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": api_key,
            "service_code": "consultation",
            "description": "问题",
            "phone": "13957660001",
            "attribute[studio]": studio,
        },
    )
    assert response.status_code == 400, response.content
    assert not Case.objects.filter(channel="consultation").exists()
