"""The demo of 代表建议: a year of deputies' suggestions in every state of the loop.

Works with or without the 民意 module's demo: it uses the deputies that have accounts
(role 人大代表 at a liaison station), and makes a few of its own when there are none; it
links some suggestions to opinion cases when there are any. Idempotent: a second run
changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from civicloop.core.accounts.models import User
from civicloop.core.areas.models import Area
from civicloop.core.cases.access import cases_visible_to
from civicloop.core.cases.models import Case
from civicloop.core.demo import DEMO_PASSWORD, DemoLogin
from civicloop.core.units.models import Membership, Unit
from civicloop.suggestions.hooks import DEPUTY, STATION, SUGGESTION, SUGGESTION_ASSIST
from civicloop.suggestions.models import Suggestion
from civicloop.suggestions.services import (
    SuggestionDraft,
    suggestion_answer,
    suggestion_assign,
    suggestion_contact_record,
    suggestion_cosign,
    suggestion_draft,
    suggestion_evaluate,
    suggestion_key_mark,
    suggestion_review,
    suggestion_submit,
    suggestion_views_send,
    suggestion_withdraw,
)

# Used only when no deputy has an account yet (the 民意 demo did not run).
OWN_DEPUTIES = (
    ("deputy_wang", "王建国", "331081100"),
    ("deputy_001", "林海燕", "331081100"),
    ("deputy_002", "陈志强", "331081001"),
    ("deputy_003", "叶美华", "331081102"),
    ("deputy_004", "郑国平", "331081104"),
    ("deputy_005", "徐丽娟", "331081005"),
    ("deputy_006", "张伟民", "331081107"),
)


def _station_unit(town_code: str) -> Unit:
    town = Area.objects.get(code=town_code)
    unit, _created = Unit.objects.get_or_create(
        code=f"station-{town_code}",
        defaults={"name": f"{town.name}人大代表联络站", "kind": STATION.code, "area": town},
    )
    return unit


def deputies_ensure() -> list[User]:
    """The deputies with accounts, making a few (user + role 人大代表 at a station) when
    there are none. The first is 王建国 (deputy_wang) when he exists."""
    ids = set(Membership.objects.filter(role=DEPUTY.code).values_list("user_id", flat=True))
    if not ids:
        for username, name, town_code in OWN_DEPUTIES:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username, full_name=name, dingtalk_userid=f"ding-{username}")
                user.set_password(DEMO_PASSWORD)
                user.save()
            Membership.objects.get_or_create(
                user=user, unit=_station_unit(town_code), role=DEPUTY.code
            )
            ids.add(user.pk)
    users = list(User.objects.filter(pk__in=ids).order_by("username"))
    users.sort(key=lambda u: (u.username != "deputy_wang", u.username))
    return users


@dataclass(frozen=True)
class DemoSuggestion:
    title: str
    body: str
    category: str
    lead: str
    assisting: tuple[str, ...]
    # The state it reaches, and how many days ago it was drafted.
    state: str
    days_ago: int
    session: bool = False
    answer: str = "A"
    rating: str = "satisfied"
    key_leader: str = ""
    hard: bool = False
    late: bool = False


# Wenling's real concerns; units from the demo city (core's units CSV).
DEMO_SUGGESTIONS = (
    DemoSuggestion(
        "关于加快泽国镇农村公路提档升级的建议",
        "泽国镇牧屿、联树等村部分农村公路路面宽度不足4.5米，破损严重，会车困难，雨天积水。建议将其列入年度“四好农村路”提档升级计划，并同步完善错车道和安全防护设施。",
        "transport",
        "dept-transport",
        ("town-331081100",),
        "closed",
        300,
        session=True,
        key_leader="市人大常委会副主任 林德华",
    ),
    DemoSuggestion(
        "关于在城区主干道增设非机动车道隔离设施的建议",
        "万昌路、东辉路等主干道非机动车与机动车混行，早晚高峰电动自行车事故多发。建议增设硬隔离设施，规范路口渠化。",
        "transport",
        "dept-transport",
        ("dept-enforcement",),
        "closed",
        290,
        session=True,
    ),
    DemoSuggestion(
        "关于加强小微企业用工保障的建议",
        "我市泵与电机、鞋帽等行业小微企业普遍存在招工难、留人难问题。建议搭建区域共享用工平台，完善外来务工人员子女入学、住房保障政策。",
        "economy",
        "dept-commerce",
        ("dept-education",),
        "closed",
        285,
        session=True,
        answer="B",
    ),
    DemoSuggestion(
        "关于推进老旧小区加装电梯的建议",
        "城区上世纪九十年代建成的老旧小区多为六层住宅，老年居民上下楼困难。建议简化加装电梯审批流程，提高财政补助标准，建立低层住户协商补偿机制。",
        "urban",
        "dept-housing",
        ("dept-market",),
        "closed",
        280,
        session=True,
        answer="B",
        key_leader="市人大常委会主任 陈国强",
        hard=True,
    ),
    DemoSuggestion(
        "关于规范城区共享电单车停放管理的建议",
        "城区共享电单车乱停乱放占用人行道、盲道现象突出。建议划定停放区，运用电子围栏技术，落实企业主体责任。",
        "governance",
        "dept-enforcement",
        (),
        "closed",
        270,
        session=True,
    ),
    DemoSuggestion(
        "关于提升石塘镇渔港防台能力的建议",
        "石塘渔港避风锚地容量不足，台风期间渔船拥挤，存在安全隐患。建议实施渔港扩容工程，完善防台预警和渔船撤离机制。",
        "environment",
        "dept-emergency",
        ("town-331081105",),
        "closed",
        265,
        session=True,
        answer="B",
        hard=True,
    ),
    DemoSuggestion(
        "关于增加城区中小学学位供给的建议",
        "随着城市扩张，城东、城北片区学位紧张，部分学校班额超标。建议加快新建学校建设，优化学区划分。",
        "education",
        "dept-education",
        ("dept-housing",),
        "closed",
        260,
        session=True,
        answer="B",
        key_leader="市人大常委会副主任 林德华",
    ),
    DemoSuggestion(
        "关于完善农村生活垃圾分类收运体系的建议",
        "部分偏远村垃圾分类后混合收运，群众积极性受挫。建议完善分类运输车辆配置和考核机制，推广“垃圾不落地”做法。",
        "environment",
        "dept-enforcement",
        ("town-331081104",),
        "closed",
        250,
        session=True,
        rating="basically",
    ),
    DemoSuggestion(
        "关于加强校园周边食品安全监管的建议",
        "校园周边小摊贩售卖“三无”食品现象时有发生。建议加强联合执法，建立校园周边食品安全长效监管机制。",
        "health",
        "dept-market",
        ("dept-education",),
        "closed",
        245,
        session=True,
    ),
    DemoSuggestion(
        "关于扩大基层医疗机构家庭医生签约服务的建议",
        "农村老年人慢性病管理需求大，家庭医生签约后服务频次不足。建议增加基层医务人员编制，提升签约服务质量。",
        "health",
        "dept-health",
        (),
        "closed",
        240,
        session=True,
        answer="B",
        rating="basically",
    ),
    DemoSuggestion(
        "关于解决箬横镇农田灌溉水源不足的建议",
        "箬横东片农田灌溉依赖河网，枯水期水源不足。建议实施河道清淤和泵站改造，保障粮食生产。",
        "economy",
        "town-331081103",
        (),
        "closed",
        235,
        session=True,
        answer="C",
        rating="basically",
    ),
    DemoSuggestion(
        "关于整治城区夜间施工噪声扰民的建议",
        "部分工地夜间违规施工，群众投诉多。建议严格夜间施工审批，加大处罚力度，公开投诉渠道。",
        "environment",
        "dept-enforcement",
        ("dept-housing",),
        "closed",
        200,
        answer="A",
        late=True,
    ),
    DemoSuggestion(
        "关于增设新河镇公交首末班延时服务的建议",
        "新河镇至城区公交末班车发车时间过早，夜班务工人员出行不便。建议延长末班车时间，增开夜间班次。",
        "transport",
        "dept-transport",
        (),
        "closed",
        190,
        rating="unsatisfied",
    ),
    DemoSuggestion(
        "关于加快城西片区雨污分流改造的建议",
        "城西片区部分老旧管网雨污合流，汛期污水外溢。建议加快雨污分流改造，纳入城市更新计划。",
        "urban",
        "dept-housing",
        ("town-331081003",),
        "closed",
        180,
        answer="B",
    ),
    DemoSuggestion(
        "关于加强电动自行车充电安全管理的建议",
        "居民楼道内飞线充电现象普遍，火灾隐患突出。建议在小区增设集中充电设施，开展专项整治。",
        "governance",
        "dept-fire",
        ("dept-housing", "dept-market"),
        "answered",
        170,
        key_leader="市人大常委会副主任 王立新",
    ),
    DemoSuggestion(
        "关于提升温峤镇工业园区配套服务的建议",
        "温峤工业园区缺少员工食堂、公寓等配套设施。建议统筹规划建设园区生活配套。",
        "economy",
        "dept-commerce",
        ("town-331081107",),
        "answered",
        150,
        answer="B",
    ),
    DemoSuggestion(
        "关于规范城乡结合部出租房安全管理的建议",
        "城乡结合部出租房人员密集，消防通道堵塞。建议推行出租房“旅馆式”管理，落实房东责任。",
        "governance",
        "dept-fire",
        ("town-331081005",),
        "answered",
        140,
        answer="A",
    ),
    DemoSuggestion(
        "关于在滨海镇建设养老服务中心的建议",
        "滨海镇老龄化程度高，缺少日间照料场所。建议建设镇级养老服务中心，引入专业运营机构。",
        "social",
        "dept-health",
        ("town-331081106",),
        "answered",
        135,
        answer="C",
    ),
    DemoSuggestion(
        "关于改善松门镇农贸市场环境的建议",
        "松门农贸市场设施老化，排水不畅，环境卫生差。建议实施改造提升，规范经营秩序。",
        "urban",
        "dept-market",
        ("town-331081102",),
        "rehandling",
        160,
        answer="B",
    ),
    DemoSuggestion(
        "关于加快太平街道停车设施建设的建议",
        "太平街道老城区停车位严重不足，车辆占道停放。建议利用边角地建设立体停车场，推行错时共享停车。",
        "transport",
        "dept-housing",
        ("dept-enforcement",),
        "rehandling",
        155,
        answer="C",
    ),
    DemoSuggestion(
        "关于推进农村饮用水达标提标的建议",
        "部分山区村饮用水水质不稳定，供水管网老化。建议实施城乡供水一体化工程，延伸城市管网。",
        "health",
        "dept-housing",
        ("dept-health",),
        "handling",
        120,
        key_leader="市人大常委会主任 陈国强",
        hard=True,
    ),
    DemoSuggestion(
        "关于加强大溪镇河道综合治理的建议",
        "大溪镇部分河道淤积，沿岸违章搭建多，水质较差。建议开展河道综合整治，建设滨水绿道。",
        "environment",
        "town-331081101",
        ("dept-enforcement",),
        "handling",
        110,
    ),
    DemoSuggestion(
        "关于完善城区应急避难场所建设的建议",
        "城区应急避难场所数量不足、标识不清。建议结合公园、学校建设一批应急避难场所，定期组织演练。",
        "governance",
        "dept-emergency",
        ("dept-education",),
        "handling",
        150,
    ),
    DemoSuggestion(
        "关于支持坞根镇红色旅游发展的建议",
        "坞根镇红色资源丰富，但交通、住宿配套不足。建议编制红色旅游规划，完善基础设施。",
        "economy",
        "dept-commerce",
        ("town-331081110", "dept-transport"),
        "handling",
        90,
    ),
    DemoSuggestion(
        "关于加强中小学生心理健康教育的建议",
        "学生心理问题呈低龄化趋势，学校专职心理教师配备不足。建议配齐心理健康教师，建立家校医联动机制。",
        "education",
        "dept-education",
        ("dept-health",),
        "handling",
        70,
    ),
    DemoSuggestion(
        "关于优化城东街道菜市场周边交通组织的建议",
        "城东菜市场周边早高峰拥堵，行人与车辆混行。建议优化交通组织，设置临时停车泊位。",
        "transport",
        "dept-enforcement",
        (),
        "handling",
        60,
    ),
    DemoSuggestion(
        "关于加大城北街道老旧管网改造力度的建议",
        "城北街道部分燃气、供水管网使用超过二十年，存在安全隐患。建议纳入城市更新统筹改造。",
        "urban",
        "dept-housing",
        (),
        "accepted",
        25,
    ),
    DemoSuggestion(
        "关于提高农村低保和特困人员救助标准的建议",
        "物价上涨背景下农村低保对象生活压力较大。建议适当提高救助标准，完善动态调整机制。",
        "social",
        "dept-health",
        (),
        "accepted",
        20,
    ),
    DemoSuggestion(
        "关于建设石桥头镇文化礼堂的建议",
        "石桥头镇部分村缺少群众文化活动场所。建议加快农村文化礼堂建设，丰富群众文化生活。",
        "education",
        "town-331081109",
        (),
        "submitted",
        12,
    ),
    DemoSuggestion(
        "关于规范电动自行车上牌服务的建议",
        "电动自行车上牌网点少，排队时间长。建议增设服务网点，推行线上预约。",
        "transport",
        "dept-enforcement",
        (),
        "submitted",
        8,
    ),
    DemoSuggestion(
        "关于加强城区流浪犬管理的建议",
        "城区流浪犬伤人事件时有发生。建议建立犬只收容中心，加强养犬登记管理。",
        "governance",
        "dept-enforcement",
        (),
        "submitted",
        5,
    ),
    DemoSuggestion(
        "关于为我个人调解邻里纠纷的请求",
        "本人与邻居因宅基地界址发生纠纷，请求帮助调解。",
        "other",
        "town-331081100",
        (),
        "returned",
        40,
    ),
    DemoSuggestion(
        "关于解决某企业欠薪问题的请求",
        "某企业拖欠本人工资三个月，请求协调解决。",
        "other",
        "dept-commerce",
        (),
        "returned",
        30,
    ),
    DemoSuggestion(
        "关于增设城南镇公共厕所的建议",
        "城南镇集镇区公共厕所少，赶集日群众如厕难。建议增设公共厕所并加强保洁。",
        "urban",
        "town-331081108",
        (),
        "withdrawn",
        15,
    ),
    DemoSuggestion(
        "关于推动海洋经济高质量发展的建议",
        "（草稿）温岭海岸线长，建议围绕渔业转型、海上风电和滨海旅游研究海洋经济发展规划。",
        "economy",
        "dept-commerce",
        (),
        "drafted",
        3,
    ),
    DemoSuggestion(
        "关于加强养老护理人才培养的建议",
        "（草稿）养老机构护理人员年龄偏大、专业化程度低，建议与职业院校合作开展定向培养。",
        "social",
        "dept-health",
        (),
        "drafted",
        1,
    ),
)

ANSWERS = {
    "A": "经研究，您提出的建议已予以采纳并落实。我单位已制定实施方案，相关工作已完成，后续将持续跟踪成效。感谢代表对本项工作的关心和支持。",
    "B": "您提出的建议很有针对性。我单位已将其列入下一年度工作计划，分步骤组织实施，预计在两年内逐步解决，实施进展将及时向代表报告。",
    "C": "经认真研究，该建议所涉事项受资金、用地等条件限制，目前暂不具备实施条件。我单位将积极争取上级支持，待条件成熟时予以推进。",
}
MAX_LINKED = 5


def demo_suggestions_build(*, deputies: list[User], now: datetime) -> int:
    """Create DEMO_SUGGESTIONS, each taken through the loop to its state with times in
    the past; returns how many were made."""
    office = User.objects.get(username="npc_office")
    units = {u.code: u for u in Unit.objects.filter(code__in=_unit_codes())}
    staff = _unit_staff(list(units.values()))
    # A dozen deputies raise the year's suggestions (several each); a few come from
    # opinions their deputy can see that were raised before them, when there are any.
    authors = deputies[:12]
    used: set[str] = set()
    linked = 0
    made = 0
    for i, spec in enumerate(DEMO_SUGGESTIONS):
        author = authors[i % len(authors)]
        t = now - timedelta(days=spec.days_ago)
        came_from: list[str] = []
        if linked < MAX_LINKED:
            author, came_from = _from_opinions(author, before=t, used=used)
            used.update(came_from)
            linked += bool(came_from)
        others = [d for d in deputies if d.pk != author.pk]
        cosigners = others[i % 5 : i % 5 + 2] if i % 3 == 0 and others else []
        s = suggestion_draft(
            deputy=author,
            draft=SuggestionDraft(
                title=spec.title,
                body=spec.body,
                category=spec.category,
                session_kind="session" if spec.session else "interim",
                cosigner_ids=[c.pk for c in cosigners],
                opinion_numbers=came_from,
                publish_consent=i % 2 == 0,
                source="demo",
            ),
            now=t,
        )
        made += 1
        for c in cosigners:
            suggestion_cosign(suggestion=s, deputy=c, agree=True, now=t + timedelta(hours=5))
        _advance(s, spec, author=author, office=office, units=units, staff=staff, start=t, now=now)
    return made


def _advance(
    s: Suggestion,
    spec: DemoSuggestion,
    *,
    author: User,
    office: User,
    units: dict[str, Unit],
    staff: dict[int, User],
    start: datetime,
    now: datetime,
) -> None:
    def at(days: float) -> datetime:
        return min(start + timedelta(days=days), now - timedelta(minutes=5))

    if spec.state == "drafted":
        return
    suggestion_submit(suggestion=s, actor=author, now=at(1))
    if spec.state == "withdrawn":
        suggestion_withdraw(suggestion=s, actor=author, now=at(2))
        return
    if spec.state == "submitted":
        return
    if spec.state == "returned":
        suggestion_review(
            suggestion=s,
            actor=office,
            accept=False,
            note="所提事项属于个人具体诉求，不宜作为代表建议，请通过信访或调解渠道反映。",
            now=at(3),
        )
        return
    suggestion_review(suggestion=s, actor=office, accept=True, now=at(3))
    if spec.key_leader:
        suggestion_key_mark(suggestion=s, actor=office, leader=spec.key_leader, now=at(4))
    if spec.state == "accepted":
        return
    lead = units[spec.lead]
    assisting = [units[c] for c in spec.assisting]
    suggestion_assign(
        suggestion=s, actor=office, lead=lead, assisting=assisting, hard=spec.hard, now=at(5)
    )
    for unit in assisting:
        if spec.state == "handling" and spec.days_ago < 80:
            break
        suggestion_views_send(
            suggestion=s,
            actor=staff[unit.pk],
            unit=unit,
            views=f"{unit.name}协办意见：同意主办单位的办理思路，我单位将在职责范围内配合落实。",
            now=at(25),
        )
    if spec.state == "handling":
        if spec.days_ago >= 80:
            suggestion_contact_record(
                suggestion=s,
                actor=staff[lead.pk],
                method="visit",
                contacted_on=at(30).date(),
                note="登门走访领衔代表，听取意见，介绍初步办理思路。",
                now=at(30),
            )
        return
    answer_day = 105 if spec.late else 60
    suggestion_contact_record(
        suggestion=s,
        actor=staff[lead.pk],
        method="visit" if spec.session else "phone",
        contacted_on=at(30).date(),
        note="与领衔代表面商办理方案，代表表示认可。",
        now=at(30),
    )
    suggestion_answer(
        suggestion=s,
        actor=staff[lead.pk],
        category=spec.answer,
        text=ANSWERS[spec.answer],
        now=at(answer_day),
    )
    if spec.state == "answered":
        return
    first = (
        "unsatisfied" if spec.state == "rehandling" or spec.rating == "unsatisfied" else spec.rating
    )
    suggestion_evaluate(
        suggestion=s,
        actor=author,
        rating=first,
        comment="答复未明确完成时间和资金安排，请进一步研究。"
        if first == "unsatisfied"
        else "办理认真，沟通充分。",
        now=at(answer_day + 7),
    )
    if spec.state == "rehandling" or first != "unsatisfied":
        return
    suggestion_contact_record(
        suggestion=s,
        actor=staff[lead.pk],
        method="meeting",
        contacted_on=at(answer_day + 15).date(),
        note="召开座谈会，向代表说明资金安排和时间节点。",
        now=at(answer_day + 15),
    )
    suggestion_answer(
        suggestion=s, actor=staff[lead.pk], category="A", text=ANSWERS["A"], now=at(answer_day + 25)
    )
    suggestion_evaluate(
        suggestion=s,
        actor=author,
        rating="satisfied",
        comment="再次办理落实到位。",
        now=at(answer_day + 30),
    )


def _from_opinions(author: User, *, before: datetime, used: set[str]) -> tuple[User, list[str]]:
    """Up to two cases of other channels raised before `before` and received by a
    station, and a deputy of that station to raise the suggestion from them (the given
    author when none is found)."""
    first = (
        Case.objects.exclude(channel__in=(SUGGESTION.code, SUGGESTION_ASSIST.code))
        .exclude(number__in=used)
        .filter(created_at__lt=before, owner_unit__kind=STATION.code)
        .order_by("created_at", "pk")
        .first()
    )
    if first is None or first.owner_unit_id is None:
        return author, []
    deputy = (
        User.objects.filter(memberships__unit_id=first.owner_unit_id, memberships__role=DEPUTY.code)
        .order_by("username")
        .first()
    )
    if deputy is None:
        return author, []
    numbers = list(
        cases_visible_to(deputy)
        .exclude(channel__in=(SUGGESTION.code, SUGGESTION_ASSIST.code))
        .exclude(number__in=used)
        .filter(created_at__lt=before, owner_unit_id=first.owner_unit_id)
        .order_by("created_at", "pk")
        .values_list("number", flat=True)[:2]
    )
    return (deputy, numbers) if numbers else (author, [])


def _unit_codes() -> set[str]:
    return {d.lead for d in DEMO_SUGGESTIONS} | {c for d in DEMO_SUGGESTIONS for c in d.assisting}


def _unit_staff(units: list[Unit]) -> dict[int, User]:
    """A handler of each unit (the demo's unit leader accounts when there is no other)."""
    out: dict[int, User] = {}
    for unit in units:
        member = (
            Membership.objects.filter(unit=unit, role__in=("handler", "unit_leader"))
            .select_related("user")
            .order_by("role", "pk")
            .first()
        )
        if member is not None:
            out[unit.pk] = member.user
            continue
        user, created = User.objects.get_or_create(
            username=f"u-{unit.code}", defaults={"full_name": f"{unit.name}负责人"}
        )
        if created:
            user.set_unusable_password()
            user.save()
        Membership.objects.get_or_create(user=user, unit=unit, role="unit_leader")
        out[unit.pk] = user
    return out


def demo_suggestions_load(log: Callable[[str], None]) -> list[DemoLogin] | None:
    """The year of suggestions (after the deputies). Returns no extra logins: the
    deputies' and the 代表工委's are the 民意 module's and core's."""
    with transaction.atomic():
        deputies = deputies_ensure()
        if Case.objects.filter(channel=SUGGESTION.code, source="demo").exists():
            log("suggestions already present")
            return None
        count = demo_suggestions_build(deputies=deputies, now=timezone.now())
    log(f"suggestions: {count} created")
    return None
