"""Demo 督政议事: two meetings with realistic content.

- 城区交通拥堵治理专题询问 (finished three weeks ago): questions to the traffic police,
  the transport bureau, the planning bureau and the enforcement bureau, their written
  answers, the deputies' satisfaction vote closed (one department rated 基本满意, one
  不满意), two follow-up cases (one reported, one still open), summary published.
- 农村生活污水治理议事会 (held two days ago, answers still coming in): questions to the
  agriculture and water bureau, the ecology bureau, the planning bureau and 泽国镇, two
  answered, two due in the coming weeks.
Plus topics in every state. Idempotent: the meetings are found by title and never made
twice. Works without the 民意 module: deputies are made when there are none."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from civicloop.core.accounts.models import User
from civicloop.core.accounts.roles import Role
from civicloop.core.areas.models import Area
from civicloop.core.cases.services import transition
from civicloop.core.demo import DemoLogin, demo_logins_ensure
from civicloop.core.units.models import Membership, Unit
from civicloop.oversight.access import DEPUTY_ROLE, staff_unit_code
from civicloop.oversight.models import (
    Meeting,
    MeetingKind,
    Topic,
    TopicState,
)
from civicloop.oversight.services import (
    follow_up_create,
    meeting_create,
    meeting_publish,
    minutes_save,
    participant_add_department,
    participant_add_deputy,
    question_ask,
    topic_decide,
    topic_propose,
    vote_cast,
    voting_close,
    voting_open,
)

CITY = "331081"
STATION_CODE = "station-331081100"
DEPUTIES_AT_A_MEETING = 8
# Departments the demo city's unit list lacks, with who supervises them.
EXTRA_UNITS = (
    ("dept-traffic-police", "温岭市公安局交通警察大队"),
    ("dept-agriculture", "温岭市农业农村和水利局"),
    ("dept-ecology", "台州市生态环境局温岭分局"),
    ("dept-planning", "温岭市自然资源和规划局"),
)
DEMO_LOGINS = (
    DemoLogin(
        "handler_traffic",
        "蒋警官",
        "13800000021",
        Role.HANDLER,
        "dept-traffic-police",
        description="市公安局交警大队 经办人（督政议事答复）",
    ),
    DemoLogin(
        "handler_planning",
        "潘科长",
        "13800000023",
        Role.HANDLER,
        "dept-planning",
        description="市自然资源和规划局 经办人（督政议事答复）",
    ),
    DemoLogin(
        "handler_agriculture",
        "叶科长",
        "13800000022",
        Role.HANDLER,
        "dept-agriculture",
        description="市农业农村和水利局 经办人（督政议事答复）",
    ),
)
WANG = DemoLogin(
    "deputy_wang",
    "王建国",
    "13800000004",
    DEPUTY_ROLE,
    STATION_CODE,
    description="人大代表（泽国镇联络站）",
)
FALLBACK_DEPUTY_NAMES = ("林秀芳", "陈海明", "郑国强", "赵丽华", "徐志刚", "金晓燕", "蔡文杰")


@dataclass(frozen=True)
class DemoQuestion:
    unit: str
    text: str
    answer: str  # "" for not answered yet


TRAFFIC_TITLE = "城区交通拥堵治理专题询问"
TRAFFIC_TOPIC = (
    "城区交通拥堵治理",
    "太平、城东、城西三个街道早晚高峰拥堵突出，万昌路、东辉路、九龙大道等主干道通行缓慢，"
    "学校、医院周边停车难。建议常委会开展专题询问，推动交警、交通、自然资源和规划、执法部门协同治理。",
)
TRAFFIC_QUESTIONS = (
    DemoQuestion(
        "dept-traffic-police",
        "万昌路与东辉路交叉口早晚高峰排队超过500米，信号灯配时多年未调整。"
        "请问交警大队对城区主要路口信号配时优化有什么计划？",
        "我大队已委托专业机构对城区42个主要路口开展流量调查，万昌路—东辉路口已于上月"
        "完成配时优化，早高峰排队长度下降约三成。其余路口将于明年6月前分三批完成优化，"
        "并接入城区智能信号控制平台，实现绿波协调。",
    ),
    DemoQuestion(
        "dept-traffic-police",
        "学校上下学时段接送车辆占道停放严重，请问如何破解校门口拥堵问题？",
        "已在城区12所中小学推行“护学岗+即停即走”模式，会同教育局错峰放学，并在"
        "太平小学、城东小学试点设置临时接送车位。下一步将把试点扩大到全部城区学校。",
    ),
    DemoQuestion(
        "dept-transport",
        "城区公交线路重复多、班次间隔长，群众乘坐公交意愿低。请问公交线网优化进展如何？",
        "我局已完成城区公交线网优化方案，撤并重复线路5条，新开社区微循环线路4条，"
        "高峰班次间隔由15分钟缩短至10分钟，方案将于明年一季度实施。",
    ),
    DemoQuestion(
        "dept-planning",
        "老城区停车泊位缺口大，新建公共停车场进度缓慢。请问今年计划建设的停车场完成了多少？",
        "今年计划新建公共停车场6处、泊位1200个，目前已建成3处、泊位560个；"
        "另外3处因征迁原因推迟，预计明年上半年完工。",
    ),
    DemoQuestion(
        "dept-enforcement",
        "人行道违停、占道经营影响通行，请问执法部门如何加强常态化管理？",
        "我局已在城区主干道实行网格化巡查，运用视频监控非现场执法，今年查处人行道违停"
        "1.2万起、占道经营860起，并将重点路段纳入每日两次巡查。",
    ),
)
TRAFFIC_VOTES = {
    # One department each: how the eight deputies rated its answers.
    "dept-traffic-police": ("satisfied",) * 6 + ("basically",) * 2,
    "dept-transport": ("satisfied",) * 4 + ("basically",) * 3 + ("unsatisfied",),
    "dept-planning": ("unsatisfied",) * 4 + ("basically",) * 3 + ("satisfied",),
    "dept-enforcement": ("basically",) * 5 + ("satisfied",) * 3,
}
TRAFFIC_FOLLOW_UPS = (
    (
        "dept-planning",
        "市自然资源和规划局加快推进推迟的3处公共停车场建设，每季度向代表工委书面报告进度。",
        60,
        "",
    ),
    (
        "dept-traffic-police",
        "市交警大队将校门口“即停即走”试点扩大到全部城区学校，一个月内报告落实情况。",
        30,
        "已在城区全部28所中小学设置护学岗和即停即走区，接送高峰拥堵时间平均缩短约10分钟。",
    ),
)
TRAFFIC_MINUTES = (
    "会议由市人大常委会副主任主持，8名市人大代表参加，市公安局交警大队、市交通运输局、"
    "市自然资源和规划局、市综合行政执法局负责人到会应询。\n"
    "代表围绕信号配时、校门口拥堵、公交线网、停车设施、占道管理等问题提出询问，"
    "各部门负责人现场作答并书面答复。\n"
    "会议决定：自然资源和规划局加快停车场建设并按季度报告；交警大队扩大校门口试点。"
)
TRAFFIC_SUMMARY = (
    "代表们就城区交通拥堵治理提出5个问题，4个部门现场应询并书面答复。"
    "满意度测评中，市自然资源和规划局答复被评为不满意，会议决定对停车场建设进行跟踪督办。"
)

SEWAGE_TITLE = "农村生活污水治理议事会"
SEWAGE_TOPIC = (
    "农村生活污水治理设施运维",
    "部分村生活污水处理终端建成后缺乏运维，管网破损、终端停运，出水不达标，"
    "群众反映强烈。建议就农村生活污水治理设施运维开展督政议事。",
)
SEWAGE_QUESTIONS = (
    DemoQuestion(
        "dept-agriculture",
        "全市农村生活污水处理终端有多少处处于停运或低效运行状态？运维资金如何保障？",
        "全市共有农村生活污水处理终端1865处，经排查停运或低效运行的有73处，"
        "已列入今年整改计划；运维资金按每吨水市镇两级分担，已纳入明年预算。",
    ),
    DemoQuestion(
        "dept-ecology",
        "请问对日处理20吨以上终端的出水水质监测频次是多少？不达标的如何处理？",
        "日处理20吨以上终端每季度监测一次，今年监测312处次，达标率91.3%；"
        "不达标终端已通报属地镇街限期整改，并纳入年度考核。",
    ),
    DemoQuestion(
        "town-331081100",
        "泽国镇部分村污水管网破损、雨污混流，请问镇政府的改造计划和时间表？",
        "",
    ),
    DemoQuestion(
        "dept-planning",
        "农村新建住房的污水纳管要求在建房审批中如何落实？",
        "",
    ),
)
SEWAGE_MINUTES = (
    "议事会在泽国镇人大代表联络站召开，代表、部门和镇政府围绕农村生活污水治理设施运维"
    "议事协商，部分问题会后书面答复。"
)
EXTRA_TOPICS = (
    (
        "电动自行车集中充电设施建设",
        "老旧小区电动自行车飞线充电、楼道停放现象普遍，火灾隐患大。"
        "建议就集中充电设施建设开展督政议事。",
        TopicState.PROPOSED,
        "",
    ),
    (
        "城区夜市摊点管理",
        "建议对城区夜市摊点噪音、油烟问题开展专题询问。",
        TopicState.REJECTED,
        "该问题已列入今年民生实事项目，由执法局牵头整治，暂不另行开展督政议事。",
    ),
)


def _ensure_units() -> None:
    city = Area.objects.get(code=CITY)
    supervisor = Unit.objects.filter(code="dept-supervision").first()
    for code, name in EXTRA_UNITS:
        Unit.objects.get_or_create(
            code=code,
            defaults={"name": name, "kind": "department", "area": city, "supervisor": supervisor},
        )
    if not Unit.objects.filter(code=STATION_CODE).exists():
        Unit.objects.create(
            code=STATION_CODE,
            name="泽国镇人大代表联络站",
            kind="station",
            area=Area.objects.get(code="331081100"),
            supervisor=Unit.objects.filter(code=staff_unit_code()).first(),
        )


def _unit_actor(unit: Unit) -> User:
    """Who answers for a unit in the demo: its leader account, the one core's demo gives
    every unit (`u-<code>`), made here when this loader runs first."""
    user, created = User.objects.get_or_create(
        username=f"u-{unit.code}",
        defaults={"full_name": f"{unit.name}负责人", "dingtalk_userid": f"ding-{unit.code}"},
    )
    if created:
        user.set_unusable_password()
        user.save()
    Membership.objects.get_or_create(user=user, unit=unit, role=Role.UNIT_LEADER)
    return user


def _deputies() -> list[User]:
    """Eight deputies with accounts: the 民意 module's when it made them, else our own
    (deputy_wang, who can sign in, and seven more at the 泽国镇 station)."""
    found = list(
        User.objects.filter(memberships__role=DEPUTY_ROLE)
        .distinct()
        .order_by("username")[:DEPUTIES_AT_A_MEETING]
    )
    if len(found) >= DEPUTIES_AT_A_MEETING:
        return found
    station = Unit.objects.get(code=STATION_CODE)
    demo_logins_ensure([WANG])
    for i, name in enumerate(FALLBACK_DEPUTY_NAMES, start=1):
        user, created = User.objects.get_or_create(
            username=f"deputy_{i:03d}",
            defaults={"full_name": name, "dingtalk_userid": f"ding-deputy-{i:03d}"},
        )
        if created:
            user.set_unusable_password()
            user.save()
        Membership.objects.get_or_create(user=user, unit=station, role=DEPUTY_ROLE)
    return list(
        User.objects.filter(memberships__role=DEPUTY_ROLE)
        .distinct()
        .order_by("username")[:DEPUTIES_AT_A_MEETING]
    )


def _accepted_topic(
    *, staff: User, proposer: User, title: str, description: str, at: datetime
) -> Topic:
    topic = topic_propose(actor=proposer, title=title, description=description, now=at)
    return topic_decide(
        actor=staff, topic=topic, accept=True, note="同意列入年度督政议事计划。", now=at
    )


def _meeting(
    *,
    staff: User,
    topic: Topic,
    kind: str,
    title: str,
    held_at: datetime,
    place: str,
    deputies: list[User],
    questions: tuple[DemoQuestion, ...],
) -> Meeting:
    meeting = meeting_create(
        actor=staff,
        topic=topic,
        kind=kind,
        title=title,
        held_at=held_at,
        place=place,
        now=held_at - timedelta(days=10),
    )
    for deputy in deputies:
        participant_add_deputy(actor=staff, meeting=meeting, deputy=deputy)
    for code in dict.fromkeys(q.unit for q in questions):
        participant_add_department(
            actor=staff,
            meeting=meeting,
            unit=Unit.objects.get(code=code),
            representative="分管副局长" if code.startswith("dept-") else "分管副镇长",
        )
    return meeting


def _ask_and_answer(
    *,
    staff: User,
    meeting: Meeting,
    deputies: list[User],
    asked_at: datetime,
    answered_at: datetime,
) -> None:
    spec = TRAFFIC_QUESTIONS if meeting.title == TRAFFIC_TITLE else SEWAGE_QUESTIONS
    for i, q in enumerate(spec):
        unit = Unit.objects.get(code=q.unit)
        question = question_ask(
            actor=staff,
            meeting=meeting,
            asked_by=deputies[i % len(deputies)],
            unit=unit,
            text=q.text,
            answer_by=(asked_at + timedelta(days=21)).date(),
            now=asked_at,
        )
        if q.answer:
            transition(
                case=question.case,
                action="answer",
                actor=_unit_actor(unit),
                note=q.answer,
                now=answered_at,
            )


def demo_oversight_load(log: Callable[[str], None]) -> list[DemoLogin]:
    """Two meetings (one finished and published, one with answers still coming in) and
    topics in every state. Returns the demo logins it made."""
    with transaction.atomic():
        _ensure_units()
        logins = demo_logins_ensure(DEMO_LOGINS)
        if Meeting.objects.filter(title__in=[TRAFFIC_TITLE, SEWAGE_TITLE]).exists():
            log("oversight meetings already present")
            return logins
        staff = User.objects.get(username="npc_office")
        deputies = _deputies()
        now = timezone.now()

        # 1. 城区交通拥堵治理专题询问: held three weeks ago, closed and published.
        held = timezone.localtime(now - timedelta(days=21)).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
        topic = _accepted_topic(
            staff=staff,
            proposer=staff,
            title=TRAFFIC_TOPIC[0],
            description=TRAFFIC_TOPIC[1],
            at=held - timedelta(days=30),
        )
        meeting = _meeting(
            staff=staff,
            topic=topic,
            kind=MeetingKind.INQUIRY,
            title=TRAFFIC_TITLE,
            held_at=held,
            place="市人大常委会第一会议室",
            deputies=deputies,
            questions=TRAFFIC_QUESTIONS,
        )
        _ask_and_answer(
            staff=staff,
            meeting=meeting,
            deputies=deputies,
            asked_at=held,
            answered_at=held + timedelta(days=7),
        )
        minutes_save(actor=staff, meeting=meeting, minutes=TRAFFIC_MINUTES, summary=TRAFFIC_SUMMARY)
        voting_open(actor=staff, meeting=meeting)
        voted_at = held + timedelta(days=9)
        for code, choices in TRAFFIC_VOTES.items():
            unit = Unit.objects.get(code=code)
            for deputy, choice in zip(deputies, choices, strict=False):
                vote_cast(actor=deputy, meeting=meeting, unit=unit, choice=choice, now=voted_at)
        voting_close(actor=staff, meeting=meeting, now=voted_at + timedelta(days=1))
        for code, decision, days, report in TRAFFIC_FOLLOW_UPS:
            follow_up = follow_up_create(
                actor=staff,
                meeting=meeting,
                unit=Unit.objects.get(code=code),
                decision=decision,
                due_date=(voted_at + timedelta(days=days)).date(),
                sources=list(meeting.questions.filter(unit__code=code).select_related("case")),
                now=voted_at + timedelta(days=1),
            )
            if report:
                transition(
                    case=follow_up.case,
                    action="report",
                    actor=_unit_actor(follow_up.unit),
                    note=report,
                    now=voted_at + timedelta(days=8),
                )
        meeting_publish(actor=staff, meeting=meeting, now=voted_at + timedelta(days=2))

        # 2. 农村生活污水治理议事会: held two days ago, answers coming in.
        held2 = timezone.localtime(now - timedelta(days=2)).replace(
            hour=14, minute=30, second=0, microsecond=0
        )
        topic2 = _accepted_topic(
            staff=staff,
            proposer=deputies[0],
            title=SEWAGE_TOPIC[0],
            description=SEWAGE_TOPIC[1],
            at=held2 - timedelta(days=20),
        )
        meeting2 = _meeting(
            staff=staff,
            topic=topic2,
            kind=MeetingKind.DELIBERATION,
            title=SEWAGE_TITLE,
            held_at=held2,
            place="泽国镇人大代表联络站代表议事厅",
            deputies=deputies[:6],
            questions=SEWAGE_QUESTIONS,
        )
        _ask_and_answer(
            staff=staff,
            meeting=meeting2,
            deputies=deputies[:6],
            asked_at=held2,
            answered_at=held2 + timedelta(days=1),
        )
        minutes_save(actor=staff, meeting=meeting2, minutes=SEWAGE_MINUTES)

        # Topics waiting for a decision, and one turned down.
        for title, description, state, note in EXTRA_TOPICS:
            topic = topic_propose(
                actor=deputies[1], title=title, description=description, now=now - timedelta(days=5)
            )
            if state == TopicState.REJECTED:
                topic_decide(actor=staff, topic=topic, accept=False, note=note, now=now)
        log(f"oversight: 2 meetings, {Topic.objects.count()} topics")
    return logins
