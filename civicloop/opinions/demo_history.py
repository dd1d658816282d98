"""A year of 民意 in the demo: opinions sent to every town's liaison station over the last
twelve months, taken through the loop by the station's deputies and the town office,
with what a real year holds — most answered on time and rated 满意, some late, some sent
back (返工), a few given more time (延期) or put on hold (缓办), some rated 不满意, and
the newest still open (a few past their deadline). So the cockpit, the statistics and
the trends have something true to show.

Deterministic (a fixed seed) and idempotent (skipped once present). How many:
`DEMO_OPINION_HISTORY` (the test suite sets it to 0 unless a test asks for a history)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from civicloop.core.accounts.models import User
from civicloop.core.accounts.roles import Role
from civicloop.core.areas.models import Area
from civicloop.core.cases.models import Case
from civicloop.core.cases.services import CaseDraft, case_submit, transition
from civicloop.core.units.models import Membership, Unit
from civicloop.opinions.hooks import OPINION
from civicloop.opinions.models import Deputy

SOURCE = "demo-history"
SEED = 20261204

# What people raise, per category: (title, body) with {place} for the village.
TOPICS: dict[str, tuple[tuple[str, str], ...]] = {
    "road": (
        (
            "{place}路口红绿灯时间太短",
            "{place}主路口行人绿灯只有十几秒，老人孩子过马路很危险，希望延长。",
        ),
        ("{place}村道坑洼积水", "{place}通往镇上的村道有多处坑洼，下雨天积水，电瓶车经常摔倒。"),
        (
            "{place}学校门口缺少减速带",
            "{place}小学门口车速快，上下学时段很不安全，建议设置减速带和护栏。",
        ),
    ),
    "environment": (
        ("{place}河道漂浮垃圾", "{place}附近河道近期漂浮垃圾较多，气味难闻，请安排清理。"),
        ("{place}夜间施工噪音扰民", "{place}旁工地晚上十点后仍在施工，影响居民休息。"),
        ("{place}垃圾分类投放点不够", "{place}只有一个垃圾分类投放点，距离远，建议增设。"),
    ),
    "housing": (
        ("{place}老旧小区楼道灯损坏", "{place}老小区楼道灯坏了一个多月，晚上上下楼看不清。"),
        ("{place}加装电梯协调难", "{place}居民想加装电梯，但低层住户意见不一，希望社区帮助协调。"),
    ),
    "safety": (
        ("{place}电动车楼道充电", "{place}有住户在楼道里给电动车充电，存在火灾隐患。"),
        ("{place}消防通道被占用", "{place}小区消防通道长期停放车辆，消防车无法通行。"),
    ),
    "education": (
        ("{place}幼儿园学位紧张", "{place}周边适龄儿童多，公办幼儿园学位不够，希望扩班。"),
        ("{place}学生课后托管", "{place}双职工家庭多，希望学校开展课后托管服务。"),
    ),
    "health": (
        ("{place}卫生室配药不全", "{place}村卫生室常用慢性病药经常缺货，老人要跑到镇上配药。"),
        ("{place}希望开展上门体检", "{place}行动不便的老人多，希望卫生院定期上门体检。"),
    ),
    "market": (
        ("{place}菜市场缺斤短两", "{place}菜市场个别摊位缺斤短两，希望加强监管，设置公平秤。"),
        ("{place}早餐店卫生问题", "{place}几家早餐店后厨卫生差，希望市场监管部门检查。"),
    ),
    "other": (
        ("{place}老年食堂用餐", "{place}老年食堂饭菜品种少，希望增加菜品，方便老人用餐。"),
        ("{place}文化礼堂开放时间", "{place}文化礼堂平时大门紧闭，希望固定开放时间。"),
    ),
}
ANSWERS = (
    "已联系相关部门现场查看并处理完毕，后续将加强日常巡查。",
    "已列入本年度整改计划，施工已完成，请群众监督。",
    "已安排专人对接，问题已解决，并向反映人电话反馈。",
)

# The year's outcomes and their weights.
OUTCOMES = (
    ("on_time", 60),
    ("basically", 10),
    ("late", 8),
    ("rework", 6),
    ("unsatisfied", 4),
    ("extension", 4),
    ("deferred", 2),
)


def _town_handler(office: Unit) -> User:
    """The town office's account that claims and answers (the same account core's demo
    gives every unit's leader)."""
    user, created = User.objects.get_or_create(
        username=f"u-{office.code}",
        defaults={"full_name": f"{office.name}负责人", "dingtalk_userid": f"ding-{office.code}"},
    )
    if created:
        user.set_unusable_password()
        user.save()
    Membership.objects.get_or_create(user=user, unit=office, role=Role.UNIT_LEADER)
    return user


def demo_history_load(log: Callable[[str], None], *, count: int | None = None) -> int:
    """Create `count` opinions over the last year (default: DEMO_OPINION_HISTORY). Returns
    how many were created (0 when the history is present)."""
    count = settings.DEMO_OPINION_HISTORY if count is None else count
    if count <= 0 or Case.objects.filter(channel=OPINION.code, source=SOURCE).exists():
        return 0
    rnd = random.Random(SEED)
    towns = list(
        Area.objects.filter(parent__parent__isnull=True, parent__isnull=False).order_by("code")
    )
    now = timezone.now()
    made = 0
    for i in range(count):
        town = towns[i % len(towns)]
        station = Unit.objects.filter(code=f"station-{town.code}").first()
        office = Unit.objects.filter(code=f"town-{town.code}").first()
        deputies = list(
            Deputy.objects.filter(station__unit=station, user__isnull=False).select_related("user")
        )
        if station is None or office is None or not deputies:
            continue
        villages = list(town.children.order_by("code")[:12]) or [town]
        village = rnd.choice(villages)
        category = rnd.choice(list(TOPICS))
        title, body = rnd.choice(TOPICS[category])
        place = village.name
        # Spread over the last year, the newest in the last days.
        age_days = int(360 * (1 - (i / max(count - 1, 1)) ** 0.8))
        start = now - timedelta(days=age_days, hours=rnd.randint(0, 8), minutes=rnd.randint(0, 59))
        start = start.replace(hour=max(8, min(start.hour, 16)))
        outcome = rnd.choices([o for o, _w in OUTCOMES], [w for _o, w in OUTCOMES])[0]
        with transaction.atomic():
            _one(
                deputy=rnd.choice(deputies),
                station=station,
                office=office,
                handler=_town_handler(office),
                village=village,
                category=category,
                title=title.format(place=place),
                body=body.format(place=place),
                phone=f"1391{i:07d}",
                start=start,
                now=now,
                outcome=outcome,
                answer=rnd.choice(ANSWERS),
            )
        made += 1
    log(f"opinions: {made} over the last year")
    return made


def _one(
    *,
    deputy: Deputy,
    station: Unit,
    office: Unit,
    handler: User,
    village: Area,
    category: str,
    title: str,
    body: str,
    phone: str,
    start: datetime,
    now: datetime,
    outcome: str,
    answer: str,
) -> None:
    assert deputy.user is not None
    actor = deputy.user
    case = case_submit(
        draft=CaseDraft(
            channel=OPINION.code,
            title=title,
            body=body,
            category=category,
            area=village,
            contact_name="群众",
            contact_phone=phone,
            owner_unit=station,
            holder_user=actor,
            source=SOURCE,
            data={"deputy_id": deputy.pk, "deputy_name": deputy.name},
        ),
        now=start,
    )
    clock = start

    def step(action: str, who: User, after: timedelta, **kw: object) -> bool:
        nonlocal case, clock
        at = clock + after
        if at >= now:
            return False  # the newest opinions are still on their way
        clock = at
        case = transition(case=case, action=action, actor=who, now=at, **kw)  # type: ignore[arg-type]
        return True

    hours = timedelta(hours=3)
    if not step("accept", actor, hours):
        return
    if not step("dispatch", actor, hours, unit=office, grade="town"):
        return
    if not step("claim", handler, hours):
        return
    if outcome == "extension":
        if not step(
            "request_extension",
            handler,
            timedelta(days=1),
            due_at=(case.due_at or clock) + timedelta(days=10),
            note="需协调多个部门，申请延期。",
        ):
            return
        if not step("approve_extension", handler, hours, note="同意延期。"):
            return
    if outcome == "deferred":
        if not step("defer", handler, timedelta(days=1), note="需列入明年预算，暂缓办理。"):
            return
        if not step("resume", handler, timedelta(days=20), note="资金已落实，恢复办理。"):
            return
    work = timedelta(days=20) if outcome == "late" else timedelta(days=2)
    if not step("submit_result", handler, work, note=answer):
        return
    if outcome == "rework":
        if not step("rework", actor, hours, note="现场查看问题仍未解决，请重新处理。"):
            return
        if not step("submit_result", handler, timedelta(days=2), note="已重新处理，问题解决。"):
            return
    if outcome == "unsatisfied":
        if not step("rate", actor, hours, rating="unsatisfied", note="群众反映仍未解决。"):
            return
        if not step("submit_result", handler, timedelta(days=3), note="再次上门处理，已解决。"):
            return
    rating = "basically" if outcome in ("basically", "late") else "satisfied"
    step("rate", actor, hours, rating=rating, note="")
