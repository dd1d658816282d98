"""The demo of 参与式预算: `zeguo-demo`, a 泽国镇 deliberative poll after the 2005 model.

A frame of 12,000 synthetic residents (fixed seed), 30 projects (and a few proposals
screened out or merged), a panel of 275 with 30 reserves drawn by lot, RSVP and
attendance, T1/T2 questionnaires answered, 16 small groups with plenary questions, a
scoring ballot of the members who came with its outcomes, and the draft budget in the
town congress. Every number comes from seeded generators, so two runs build the same
demo; a second run changes nothing. Bulk writes keep it to a few seconds.

The town's staff log in with core's demo logins (`handler_zeguo`, `leader_zeguo`).
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from civicloop.budgeting import services
from civicloop.budgeting.ballot_models import Vote
from civicloop.budgeting.ballots import ballot_open, outcomes_compute
from civicloop.budgeting.congress import draft_publish
from civicloop.budgeting.models import (
    BudgetProcess,
    BudgetProject,
    PanelMember,
    Phase,
    ProjectRating,
    QuestionnaireResponse,
    Wave,
)
from civicloop.budgeting.rules import BallotKind, Rule
from civicloop.core.areas.models import Area

CODE = "zeguo-demo"
TOWN_CODE = "331081100"  # 泽国镇
SEED = 2005
DRAW_SEED = 20260401
FRAME_SIZE = 12_000
TOTAL_BUDGET = 40_000_000  # 泽国 2005: 4,000 万元 for the year's public works

DISTRICTS = ("泽国片", "牧屿片", "联树片", "山北片", "水澄片")
AGE_BANDS = (("18-34", 18, 34), ("35-49", 35, 49), ("50-64", 50, 64), ("65+", 65, 85))
SURNAMES = "王李张陈林黄吴徐郑周叶蔡潘金谢江卢杨"
GIVEN = "建国海燕志强美华国平丽娟伟民秀英明辉小红春梅德福玉兰文杰"

# (title, category, cost in yuan): 泽国 2005 put 30 public works before the panel.
PROJECTS = (
    ("镇区主干道拓宽改造", "道路", 4_800_000),
    ("文昌路污水管网", "环境", 3_600_000),
    ("牧屿片区自来水管网改造", "供水", 5_200_000),
    ("泽国中学塑胶操场", "教育", 1_200_000),
    ("镇中心小学教学楼维修", "教育", 2_300_000),
    ("联树村河道清淤", "环境", 900_000),
    ("山北村村道硬化", "道路", 1_500_000),
    ("水澄村桥梁加固", "道路", 1_800_000),
    ("镇文化活动中心", "文化", 6_500_000),
    ("老年活动中心", "民生", 1_100_000),
    ("泽国公园二期", "文化", 7_200_000),
    ("垃圾中转站", "环境", 2_600_000),
    ("农贸市场改造", "民生", 3_300_000),
    ("路灯亮化工程", "道路", 1_400_000),
    ("卫生院门诊楼改造", "卫生", 4_100_000),
    ("消防站扩建", "安全", 2_900_000),
    ("城东河滨公园", "环境", 3_800_000),
    ("工业区道路网", "道路", 8_600_000),
    ("社区健身广场", "文化", 800_000),
    ("幼儿园新建", "教育", 5_600_000),
    ("公交候车亭", "交通", 600_000),
    ("镇区停车场", "交通", 2_200_000),
    ("防洪堤加固", "安全", 6_800_000),
    ("农田水利灌溉渠", "农业", 1_900_000),
    ("公共厕所改造", "环境", 700_000),
    ("图书馆分馆", "文化", 1_600_000),
    ("残疾人康复站", "民生", 900_000),
    ("菜篮子基地道路", "农业", 1_300_000),
    ("老街风貌整治", "文化", 4_400_000),
    ("村级便民服务中心", "民生", 1_700_000),
)
SCREENED_OUT = (
    ("镇政府办公楼装修", "政务", 3_000_000, "不属于公共服务项目，不列入本次恳谈。"),
    ("高尔夫球场", "文化", 20_000_000, "超出镇级财力和规划，不予列入。"),
)
DUPLICATES = (("文昌路下水道", "环境", 3_500_000, 1),)  # merged into 文昌路污水管网

KNOWLEDGE: tuple[dict[str, Any], ...] = (
    {
        "id": "k1",
        "text": "泽国镇今年可安排的公共工程预算大约是多少？",
        "options": ["400 万元", "4000 万元", "4 亿元"],
        "answer": 1,
    },
    {
        "id": "k2",
        "text": "所有候选项目的造价合计是否超过可用预算？",
        "options": ["是", "否"],
        "answer": 0,
    },
    {
        "id": "k3",
        "text": "恳谈结果由谁最终审议？",
        "options": ["镇政府办公会", "镇人民代表大会", "村委会"],
        "answer": 1,
    },
    {
        "id": "k4",
        "text": "污水管网项目主要解决什么问题？",
        "options": ["交通拥堵", "河道污染", "用电紧张"],
        "answer": 1,
    },
    {
        "id": "k5",
        "text": "抽选代表是怎样产生的？",
        "options": ["村里推荐", "随机抽样", "自愿报名"],
        "answer": 1,
    },
)

FACILITATORS = tuple(f"{s}老师" for s in "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨")


def _frame_csv(rng: random.Random) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["id", "name", "phone", "age", "sex", "sex_group", "age_band", "district"])
    band_weights = (30, 28, 24, 18)
    district_weights = (32, 22, 18, 15, 13)
    for i in range(1, FRAME_SIZE + 1):
        sex = "男" if rng.random() < 0.51 else "女"
        band, low, high = rng.choices(AGE_BANDS, weights=band_weights)[0]
        district = rng.choices(DISTRICTS, weights=district_weights)[0]
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        # Synthetic numbers; the demo records invitations as sent and enqueues no SMS.
        phone = f"1990000{i:04d}"[-11:] if i < 10_000 else ""
        w.writerow([f"ZG{i:05d}", name, phone, rng.randint(low, high), sex, sex, band, district])
    return out.getvalue()


def _clamp(value: float) -> int:
    return max(0, min(10, round(value)))


def demo_budget_build(*, log: Callable[[str], None]) -> BudgetProcess:
    rng = random.Random(SEED)
    town = Area.objects.get(code=TOWN_CODE)
    year = timezone.now().year
    start = date(year, 2, 1)
    schedule = {}
    for i, phase in enumerate(Phase.values):
        schedule[phase] = (start + timedelta(days=30 * i), start + timedelta(days=30 * i + 25))
    process = services.process_create(
        code=CODE,
        title=f"泽国镇{year}年参与式预算（民主恳谈）",
        year=year,
        town=town,
        total_budget=TOTAL_BUDGET,
        description="从全镇 18 岁以上居民中按性别、年龄段和片区分层随机抽选 275 名代表，恳谈前后两次问卷，按恳谈后的平均分排序安排城建项目。",
        panel_size=275,
        panel_reserve=30,
        panel_features=["sex_group", "age_band", "district"],
        schedule=schedule,
    )
    # 征集: the thirty, two that screening turns down, one duplicate.
    ids = []
    for n, (title, category, cost) in enumerate(PROJECTS):
        source = (
            BudgetProject.Source.DEPARTMENT,
            BudgetProject.Source.PUBLIC,
            BudgetProject.Source.DEPUTY,
        )[n % 3]
        project = services.project_propose(
            process=process,
            proposal=services.ProjectProposal(
                title=title, description=f"{title}。", cost=cost, source=source, category=category
            ),
        )
        ids.append(project)
    for title, category, cost, _reason in SCREENED_OUT:
        services.project_propose(
            process=process,
            proposal=services.ProjectProposal(
                title=title,
                description=title,
                cost=min(cost, TOTAL_BUDGET),
                source="public",
                category=category,
            ),
        )
    for title, category, cost, index in DUPLICATES:
        dup = services.project_propose(
            process=process,
            proposal=services.ProjectProposal(
                title=title, description=title, cost=cost, source="public", category=category
            ),
        )
        services.project_merge(
            project=dup, into=ids[index], reason="与“文昌路污水管网”重复，合并办理。", actor=None
        )
    services.process_phase_advance(process=process, to=Phase.SCREENING)
    for project in ids:
        if project.status == BudgetProject.Status.PROPOSED:
            services.project_screen(project=project, accept=True, reason="", actor=None)
    reasons = {title: reason for title, _c, _cost, reason in SCREENED_OUT}
    for project in process.projects.filter(status=BudgetProject.Status.PROPOSED):
        services.project_screen(
            project=project,
            accept=False,
            reason=reasons.get(project.title, "不予列入。"),
            actor=None,
        )
    log(f"budgeting: {len(ids)} projects accepted")

    # 抽样
    services.frame_import_csv(process=process, stream=io.StringIO(_frame_csv(rng)))
    draw = services.panel_draw(process=process, seed=DRAW_SEED)
    services.panel_publish(draw=draw)
    members = list(draw.members.filter(reserve=False).order_by("pk"))
    attended_ids = []
    yes, no = [], []
    for m in members:
        if rng.random() < 0.95:
            yes.append(m.pk)
            if rng.random() < 0.97:
                attended_ids.append(m.pk)
        else:
            no.append(m.pk)
    now = timezone.now()
    PanelMember.objects.filter(pk__in=[m.pk for m in members]).update(
        invited_at=now - timedelta(days=40)
    )
    PanelMember.objects.filter(pk__in=yes).update(
        rsvp=PanelMember.Rsvp.YES, rsvp_at=now - timedelta(days=38)
    )
    PanelMember.objects.filter(pk__in=no).update(
        rsvp=PanelMember.Rsvp.NO, rsvp_at=now - timedelta(days=38)
    )
    services.attendance_record(draw=draw, attended_ids=attended_ids)
    log(f"budgeting: panel {len(members)} drawn, {len(attended_ids)} attended")

    # 恳谈: T1 on arrival, groups and plenary, T2 at the end of the day.
    services.process_phase_advance(process=process, to=Phase.DELIBERATION)
    t1 = services.questionnaire_create(
        process=process, wave=Wave.T1, title="恳谈前问卷（T1）", knowledge_items=KNOWLEDGE
    )
    t2 = services.questionnaire_create(
        process=process, wave=Wave.T2, title="恳谈后问卷（T2）", knowledge_items=KNOWLEDGE
    )
    projects = list(process.projects.filter(status=BudgetProject.Status.ACCEPTED).order_by("pk"))
    appeal = {p.pk: rng.uniform(3.5, 8.0) for p in projects}
    informed = {pk: a + rng.uniform(-1.8, 1.8) for pk, a in appeal.items()}
    came = list(PanelMember.objects.filter(pk__in=attended_ids).order_by("pk"))
    t2_scores: dict[int, dict[int, int]] = {}
    with transaction.atomic():
        responses = []
        for m in came:
            for q, right in ((t1, 0.45), (t2, 0.72)):
                answers = {
                    item["id"]: item["answer"]
                    if rng.random() < right
                    else (item["answer"] + 1) % len(item["options"])
                    for item in KNOWLEDGE
                }
                score = sum(1 for item in KNOWLEDGE if answers[item["id"]] == item["answer"])
                responses.append(
                    QuestionnaireResponse(
                        questionnaire=q, member=m, knowledge_answers=answers, knowledge_score=score
                    )
                )
        QuestionnaireResponse.objects.bulk_create(responses, batch_size=1000)
        by_key = {
            (r.questionnaire_id, r.member_id): r.pk
            for r in QuestionnaireResponse.objects.filter(questionnaire__process=process)
        }
        ratings = []
        for m in came:
            bias = rng.gauss(0, 0.8)
            t2_scores[m.pk] = {}
            for p in projects:
                before = _clamp(appeal[p.pk] + bias + rng.gauss(0, 1.6))
                after = _clamp(0.4 * before + 0.6 * (informed[p.pk] + bias) + rng.gauss(0, 1.0))
                t2_scores[m.pk][p.pk] = after
                ratings.append(
                    ProjectRating(response_id=by_key[(t1.pk, m.pk)], project=p, score=before)
                )
                ratings.append(
                    ProjectRating(response_id=by_key[(t2.pk, m.pk)], project=p, score=after)
                )
        ProjectRating.objects.bulk_create(ratings, batch_size=2000)
    groups = services.groups_form(process=process, count=16, facilitators=FACILITATORS, seed=SEED)
    questions = (
        (
            "工业区道路网造价为什么这么高？",
            17,
            "镇城建办",
            "主要是征地和软基处理费用，分两年实施。",
        ),
        (
            "污水管网建成后谁来维护？",
            1,
            "镇环保办",
            "由镇供排水公司负责日常维护，费用列入年度预算。",
        ),
        ("幼儿园新建能否与现有小学共用场地？", 19, "镇教办", "规划部门认为不可行，需另行选址。"),
    )
    for n, (text, index, who, answer) in enumerate(questions):
        asked = services.plenary_question_ask(
            process=process, text=text, group=groups[n], project=projects[index]
        )
        services.plenary_question_answer(question=asked, answer=answer, answered_by=who)

    # 投票: the members who came score every project once more, on the ballot.
    services.process_phase_advance(process=process, to=Phase.VOTING)
    opens = now - timedelta(days=20)
    ballot = ballot_open(
        process=process,
        title="泽国镇参与式预算项目票决",
        kind=BallotKind.SCORING,
        opens_at=opens,
        closes_at=opens + timedelta(days=1),
        projects=projects,
        rule=Rule.MES,
    )
    by_member = {
        m.pk: m for m in PanelMember.objects.filter(pk__in=attended_ids).select_related("frame_row")
    }
    Vote.objects.bulk_create(
        [
            Vote(
                ballot=ballot,
                voter_key=f"panel:{pk}",
                voter_kind=Vote.VoterKind.PANEL,
                choices={str(pid): s for pid, s in t2_scores[pk].items() if s > 0},
                age=by_member[pk].age,
                sex=by_member[pk].sex,
            )
            for pk in sorted(t2_scores)
            if any(t2_scores[pk].values())
        ]
    )
    comparison = outcomes_compute(ballot=ballot)
    log(f"budgeting: ballot counted, MES funds {len(comparison.outcomes[Rule.MES])} projects")

    # 人代会审议: the draft budget lists the projects the adopted rule funds.
    services.process_phase_advance(process=process, to=Phase.CONGRESS)
    funded = set(int(i) for i in comparison.outcomes[Rule.MES])
    draft = draft_publish(
        process=process,
        lines=[(f"ZG{p.pk:04d}", p.title, int(p.cost)) for p in projects if p.pk in funded],
        note="按恳谈和票决结果编制的城建项目预算草案。",
    )
    for line in draft.lines.all():
        line.project = next((p for p in projects if p.title == line.title), None)
        line.save(update_fields=["project"])
    return process


def demo_budget_load(log: Callable[[str], None]) -> None:
    """Build `zeguo-demo` once (a second run changes nothing)."""
    if BudgetProcess.objects.filter(code=CODE).exists():
        log("budgeting: zeguo-demo already loaded")
        return
    if not Area.objects.filter(code=TOWN_CODE).exists():
        log("budgeting: no 泽国镇 in the area tree; skipped")
        return
    with transaction.atomic():
        demo_budget_build(log=log)
