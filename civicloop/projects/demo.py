"""Demo data of 民生实事: this year's cycle in Wenling, 12 shortlisted candidates for 10
places (and a few proposals screened out), voted by secret ballot of the demo deputies
with the result published, and the chosen projects under delivery (milestones as
cases, progress, a delay, supervision groups and a visit with findings).

Idempotent: once the year's cycle exists nothing is added. Does not need the 民意
module's demo: without any deputy it makes a few of its own at a station unit."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from civicloop.core.accounts.models import User
from civicloop.core.accounts.roles import Role
from civicloop.core.areas.models import Area
from civicloop.core.cases.models import Case
from civicloop.core.demo import DEMO_PASSWORD
from civicloop.core.units.models import Membership, Unit
from civicloop.projects.hooks import DEPUTY, STATION
from civicloop.projects.models import Candidate, CandidateSource, Cycle, Milestone
from civicloop.projects.selectors import deputies_current
from civicloop.projects.services import (
    Proposal,
    ballot_cast,
    candidate_propose,
    candidate_screen_out,
    candidate_shortlist,
    cycle_create,
    delay_report,
    delivery_start,
    group_create,
    milestone_add,
    milestone_complete,
    progress_report,
    visit_record,
    voting_close,
    voting_open,
)

OFFICE_LOGIN = "npc_office"
FALLBACK_STATION = "station-projects-demo"
FALLBACK_DEPUTIES = 15

# (title, description, lead unit, budget in 万元, timeline, how much deputies favour it)
CANDIDATES = (
    (
        "城区老旧小区改造提升",
        "对太平街道、城东街道2000年前建成的18个老旧小区实施管网改造、外立面整治、加装电梯和停车位挖潜，惠及居民6800余户。",
        "dept-housing",
        "18600",
        "2026年3月至12月",
        0.93,
    ),
    (
        "农村饮用水达标提标行动",
        "完成坞根镇、石塘镇等山区海岛村单村水站改造和城乡供水管网延伸，解决3.2万农村人口饮水安全问题。",
        "dept-housing",
        "9800",
        "2026年2月至11月",
        0.91,
    ),
    (
        "城区公共停车位扩容",
        "利用边角地、闲置地新建公共停车场12处，新增公共停车泊位3000个，推广智慧停车引导系统。",
        "dept-transport",
        "7200",
        "2026年3月至12月",
        0.86,
    ),
    (
        "居家养老服务中心全覆盖",
        "新建改建镇（街道）居家养老服务中心8家、村级照料中心40家，开设老年食堂，提供助餐、助浴、康复服务。",
        "dept-health",
        "5600",
        "2026年1月至10月",
        0.89,
    ),
    (
        "中小学食堂“阳光厨房”改造",
        "对全市62所中小学食堂进行明厨亮灶、智慧监管改造，开展食材集中配送，保障学生用餐安全。",
        "dept-education",
        "3800",
        "2026年3月至8月",
        0.84,
    ),
    (
        "城乡公厕提档升级",
        "新建和改造城乡公厕120座，达到二类以上标准，设置第三卫生间和母婴室，纳入“找厕所”地图。",
        "dept-enforcement",
        "2400",
        "2026年3月至11月",
        0.82,
    ),
    (
        "社区卫生服务站标准化建设",
        "新建改建村（社区）卫生服务站30家，配备远程诊疗设备，实现“15分钟医疗服务圈”。",
        "dept-health",
        "3100",
        "2026年2月至12月",
        0.8,
    ),
    (
        "城区学校周边交通安全整治",
        "在城区45所中小学、幼儿园周边设置护学通道、接送车位和智能信号灯，缓解上下学拥堵。",
        "dept-transport",
        "1500",
        "2026年3月至9月",
        0.78,
    ),
    (
        "农贸市场改造提升",
        "完成11个镇（街道）中心农贸市场改造，实现智慧称重、快检公示和环境整治。",
        "dept-market",
        "4500",
        "2026年3月至12月",
        0.76,
    ),
    (
        "防汛防台应急避灾点建设",
        "新建和提升规范化避灾安置场所50个，配齐应急物资和备用电源，提升海岛和沿海村抗台能力。",
        "dept-emergency",
        "2000",
        "2026年2月至7月",
        0.74,
    ),
    (
        "城区全民健身中心建设",
        "在城北新建全民健身中心一座，含游泳馆、室内球场和健身步道。",
        "dept-education",
        "26000",
        "2026年4月至2027年12月",
        0.38,
    ),
    (
        "城市夜景亮化工程",
        "对九龙湖、锦屏公园周边实施夜景亮化提升。",
        "dept-enforcement",
        "3500",
        "2026年4月至10月",
        0.3,
    ),
)

SCREENED_OUT = (
    (
        "建设城区有轨电车",
        "建议建设贯通城区和东部新区的有轨电车线路。",
        "项目投资大、周期长，不属于年度民生实事范围，转有关部门研究。",
    ),
    (
        "我家门口路灯不亮",
        "横峰街道某小区门口路灯坏了半个月。",
        "属于个案问题，已转综合行政执法局即时处理。",
    ),
    (
        "增加城区公交夜班车",
        "希望开通22点以后的夜班公交。",
        "已纳入交通运输局年度公交线网优化计划，不单列为民生实事。",
    ),
)

MILESTONES = (
    ("完成项目方案设计和招投标", 3, 31),
    ("开工建设", 6, 30),
    ("完成主体工程", 9, 30),
    ("完工验收", 12, 25),
)

LOG = Callable[[str], None]


def _at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _deputies_ensure(log: LOG) -> list[User]:
    deputies = list(deputies_current())
    if deputies:
        return deputies
    unit, _created = Unit.objects.get_or_create(
        code=FALLBACK_STATION,
        defaults={
            "name": "温岭市人大代表联络总站",
            "kind": STATION.code,
            "area": Area.objects.get(code="331081"),
        },
    )
    for i in range(FALLBACK_DEPUTIES):
        user, created = User.objects.get_or_create(
            username=f"pdeputy_{i + 1:02d}",
            defaults={
                "full_name": f"代表{i + 1:02d}",
                "dingtalk_userid": f"ding-pdeputy-{i + 1:02d}",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        Membership.objects.get_or_create(user=user, unit=unit, role=DEPUTY.code)
    log(f"projects: {FALLBACK_DEPUTIES} deputies of its own (no 民意 demo)")
    return list(deputies_current())


def _lead_user(unit: Unit) -> User:
    """The lead unit's demo account (the same one core's demo gives each unit)."""
    user, created = User.objects.get_or_create(
        username=f"u-{unit.code}",
        defaults={"full_name": f"{unit.name}负责人", "dingtalk_userid": f"ding-{unit.code}"},
    )
    if created:
        user.set_unusable_password()
        user.save()
    Membership.objects.get_or_create(user=user, unit=unit, role=Role.UNIT_LEADER)
    return user


def demo_projects_load(log: LOG) -> None:
    now = timezone.now()
    year = timezone.localtime(now).year
    if Cycle.objects.filter(year=year).exists():
        log("projects: demo cycle present")
        return None
    office = User.objects.get(username=OFFICE_LOGIN)
    rng = random.Random(year)
    with transaction.atomic():
        deputies = _deputies_ensure(log)
        cycle = cycle_create(
            year=year, title=f"{year}年温岭市民生实事项目", actor=office, places=10
        )
        collected = _at(date(year - 1, 10, 20))
        candidates: list[tuple[Candidate, float]] = []
        promoted = list(
            Case.objects.filter(channel__in=list(settings.PROJECTS_PROMOTE_CHANNELS)).order_by(
                "pk"
            )[:2]
        )
        for i, (title, body, unit_code, budget, timeline, favour) in enumerate(CANDIDATES):
            source = (
                CandidateSource.DEPARTMENT,
                CandidateSource.PUBLIC,
                CandidateSource.DEPUTY,
            )[i % 3]
            # The parking project came from citizens' opinions (when the 民意 demo ran):
            # linked case to case, shown on both sides.
            from_cases = promoted if i == 2 else []
            if from_cases:
                source = CandidateSource.PROMOTED
            candidate = candidate_propose(
                cycle=cycle,
                from_cases=from_cases,
                proposal=Proposal(
                    title=title,
                    description=body,
                    source=source,
                    budget_wan=Decimal(budget),
                    lead_unit=Unit.objects.get(code=unit_code),
                    timeline=timeline,
                ),
                actor=office,
                now=collected + timedelta(days=i),
            )
            candidate_shortlist(candidate=candidate, actor=office, now=_at(date(year - 1, 12, 10)))
            candidates.append((candidate, favour))
        for title, body, reason in SCREENED_OUT:
            proposal = candidate_propose(
                cycle=cycle,
                proposal=Proposal(title=title, description=body, source=CandidateSource.PUBLIC),
                actor=None,
                now=collected,
            )
            candidate_screen_out(
                candidate=proposal, actor=office, reason=reason, now=_at(date(year - 1, 12, 10))
            )
        voting_open(cycle=cycle, actor=office, now=_at(date(year, 1, 8), 9))
        cast_at = _at(date(year, 1, 8), 10)
        # A few were absent from the session; the others' votes follow each project's
        # favour exactly (spread over the voters), so the result is the same every run.
        voters = [d for i, d in enumerate(deputies) if i % 12 != 5]
        n = len(voters)
        for v, deputy in enumerate(voters):
            choices = {}
            for k, (candidate, favour) in enumerate(candidates):
                slot = (v + k * 5) % n
                in_favour = round(favour * n)
                against = in_favour + round((1 - favour) * 0.6 * n)
                choices[str(candidate.pk)] = (
                    "for" if slot < in_favour else "against" if slot < against else "abstain"
                )
            ballot_cast(cycle=cycle, user=deputy, choices=choices, now=cast_at)
        cycle = voting_close(cycle=cycle, actor=office, now=_at(date(year, 1, 8), 11))
        delivery_start(cycle=cycle, actor=office)
        counts = _delivery(
            cycle=cycle, office=office, deputies=deputies, year=year, now=now, rng=rng
        )
    log(
        f"projects: cycle {year}, {len(candidates)} candidates, {cycle.voters_count} of "
        f"{cycle.roll_size} deputies voted, {counts} milestones"
    )
    return None


def _delivery(
    *,
    cycle: Cycle,
    office: User,
    deputies: list[User],
    year: int,
    now: datetime,
    rng: random.Random,
) -> int:
    """Milestones for each chosen project: those already due are done (one late, with
    its delay reported), the rest in progress with a progress report."""
    made = 0
    today = timezone.localtime(now).date()
    chosen = list(
        Candidate.objects.filter(cycle=cycle, chosen=True).select_related(
            "lead_unit", "cycle", "case"
        )
    )
    for index, project in enumerate(chosen):
        assert project.lead_unit is not None
        lead = _lead_user(project.lead_unit)
        percent = 0
        spent = Decimal(0)
        budget = project.budget_wan or Decimal(0)
        for step, (title, month, day) in enumerate(MILESTONES):
            due = date(year, month, day)
            milestone = milestone_add(
                project=project, title=title, due_date=due, actor=office, now=_at(date(year, 1, 20))
            )
            made += 1
            late = index == 2 and step == 2
            if due < today and not late:
                percent = min(100, 25 * (step + 1) - rng.randint(0, 5))
                spent = (budget * percent / 100).quantize(Decimal("0.01"))
                progress_report(
                    milestone=milestone,
                    actor=lead,
                    percent=percent,
                    spent_wan=spent,
                    note=f"{title}：按计划推进，累计完成投资{spent}万元。",
                    now=_at(due - timedelta(days=3)),
                )
                milestone_complete(
                    milestone=milestone,
                    actor=lead,
                    note=f"{title}已完成。",
                    now=_at(due - timedelta(days=2)),
                )
            elif late:
                delay_report(
                    milestone=milestone,
                    actor=lead,
                    reason="受台风“海葵”和连续降雨影响，部分点位停工约一个月。",
                    expected_date=due + timedelta(days=45),
                    now=_at(due - timedelta(days=5)),
                )
            elif step == len(MILESTONES) - 1 or due >= today:
                percent = max(percent, 88 - index)
                spent = (budget * percent / 100).quantize(Decimal("0.01"))
                progress_report(
                    milestone=milestone,
                    actor=lead,
                    percent=percent,
                    spent_wan=spent,
                    note=f"正在进行扫尾工作，整体完成{percent}%。",
                    now=now - timedelta(days=3),
                )
        if index < 3 and len(deputies) >= 3:
            members = deputies[index * 3 : index * 3 + 3] or deputies[:3]
            group = group_create(
                project=project,
                name=f"{project.title}代表监督小组",
                leader=members[0],
                members=members,
                actor=office,
            )
            visit_record(
                group=group,
                actor=members[0],
                visited_on=date(year, 9, 15 + index),
                summary="小组实地察看施工现场，听取牵头单位情况汇报，与周边群众座谈。",
                findings=["施工围挡存在破损，夜间警示灯不足。"] if index != 1 else [],
                now=_at(date(year, 9, 15 + index), 16),
            )
    assert Milestone.objects.filter(project__cycle=cycle).count() == made
    return made
