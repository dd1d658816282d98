"""Demo data of 政协委员工作室: the 16 town studios and 21 sector studios of Wenling (each
a unit under the CPPCC office), 2–3 members each, 179 协商在线 threads in every state
over the last two months, 40 社情民意 reports with adoptions at several levels and
批示, and one 民生议事堂 session with 30 participants and their votes (two opinion
groups). Idempotent: once the studios' threads exist nothing more is added.

Everything is generated from a fixed seed, so two loads give the same demo."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from civicloop.core.accounts.models import User
from civicloop.core.accounts.roles import Role
from civicloop.core.areas.models import Area
from civicloop.core.demo import DemoLogin, demo_logins_ensure
from civicloop.core.units.models import Membership, Unit
from civicloop.studios import services
from civicloop.studios.hooks import CPPCC_OFFICE_UNIT, MEMBER, STUDIO
from civicloop.studios.models import (
    Level,
    Member,
    ParticipantKind,
    Session,
    Studio,
    StudioKind,
    Thread,
)

SEED = 20261
TOWNS = (
    ("331081001", "太平街道", ("城建", "教育", "社会保障")),
    ("331081002", "城东街道", ("企业发展", "城建", "法律")),
    ("331081003", "城西街道", ("企业发展", "环保")),
    ("331081004", "城北街道", ("教育", "医疗")),
    ("331081005", "横峰街道", ("企业发展", "法律", "环保")),
    ("331081100", "泽国镇", ("企业发展", "城建", "教育")),
    ("331081101", "大溪镇", ("企业发展", "环保", "法律")),
    ("331081102", "松门镇", ("渔业", "农业", "社会保障")),
    ("331081103", "箬横镇", ("农业", "医疗")),
    ("331081104", "新河镇", ("农业", "文化", "教育")),
    ("331081105", "石塘镇", ("渔业", "文化", "旅游")),
    ("331081106", "滨海镇", ("农业", "企业发展")),
    ("331081107", "温峤镇", ("企业发展", "交通")),
    ("331081108", "城南镇", ("农业", "旅游")),
    ("331081109", "石桥头镇", ("企业发展", "环保")),
    ("331081110", "坞根镇", ("农业", "旅游", "文化")),
)
# 温岭市政协's sectors (界别), each with a studio, its fields and the street it sits in.
SECTORS = (
    ("中共", ("社会治理", "城建"), "331081001"),
    ("民革", ("法律", "社会保障"), "331081001"),
    ("民盟", ("教育", "文化"), "331081002"),
    ("民建", ("企业发展", "法律"), "331081002"),
    ("民进", ("教育", "文化"), "331081003"),
    ("农工党", ("医疗", "环保"), "331081004"),
    ("致公党", ("企业发展", "外贸"), "331081005"),
    ("无党派人士", ("法律", "社会治理"), "331081001"),
    ("共青团", ("教育", "就业"), "331081002"),
    ("工会", ("就业", "社会保障"), "331081003"),
    ("妇联", ("社会保障", "教育"), "331081004"),
    ("工商联", ("企业发展", "外贸"), "331081005"),
    ("科协", ("科技", "企业发展"), "331081001"),
    ("经济界", ("企业发展", "金融"), "331081002"),
    ("农业界", ("农业", "渔业"), "331081003"),
    ("教育界", ("教育",), "331081004"),
    ("文化艺术界", ("文化", "旅游"), "331081005"),
    ("医药卫生界", ("医疗",), "331081001"),
    ("社会福利和社会保障界", ("社会保障", "养老"), "331081002"),
    ("特邀人士", ("社会治理", "法律"), "331081003"),
    ("港澳台侨", ("外贸", "企业发展"), "331081004"),
)
SURNAMES = "陈林王李张叶赵郑徐周江黄蔡潘金吴梁罗应许"
GIVEN = (
    "建国", "海燕", "立新", "晓峰", "丽萍", "志强", "文杰", "秀英", "国平", "雪芬",
    "伟东", "慧敏", "永明", "红霞", "振华", "美玲", "宏伟", "素琴", "海波", "亚萍",
)  # fmt: skip
PROFILES = (
    "长期从事{field}工作，关注基层群众的急难愁盼。",
    "在{field}领域工作二十余年，多次提出被采纳的提案。",
    "熟悉{field}政策，每月在工作室值班接待群众。",
)
QUESTIONS = (
    ("教育", "孩子明年上小学，学区划分什么时候公布？我们小区两年前划到新学区，家长们很担心。"),
    ("医疗", "村卫生室只有一名医生，老人配药要跑到镇上，能不能增加坐诊时间？"),
    ("企业发展", "我们是做水泵配件的小企业，技改补贴怎么申报？材料要准备哪些？"),
    ("法律", "租的厂房房东要提前收回，合同还有两年，我们应该怎么维权？"),
    ("农业", "今年西兰花收购价很低，合作社想搞冷链仓储，有没有扶持政策？"),
    ("城建", "老小区加装电梯，一楼住户不同意，有没有协调的办法？"),
    ("社会保障", "灵活就业人员怎么交社保？断缴了半年还能补吗？"),
    ("环保", "工业区晚上有刺鼻气味，影响附近居民休息，希望有人管一管。"),
    ("文化", "村里的文化礼堂平时锁着，能不能多开放一些时间给老年人活动？"),
    ("交通", "76省道路口早晚高峰很堵，能不能优化一下红绿灯时长？"),
    ("渔业", "休渔期渔民收入减少，有没有转产转业培训？"),
    ("旅游", "石塘的民宿越来越多，停车位不够，节假日车子停到村道上。"),
)
ANSWERS = (
    "您好，您反映的问题我已了解。经向相关部门咨询，具体政策和办理流程如下，如有疑问欢迎到工作室值班日面谈。",
    "感谢您的建议。这个问题在我们界别调研中也多次听到，我会整理成社情民意信息向上反映。",
    "您好，已联系镇里分管部门，他们答复近期会组织现场查看，有进展我会在这里告诉您。",
)
REPORT_TITLES = (
    "关于加快老旧小区加装电梯协调机制建设的建议",
    "关于缓解城区中小学学位紧张的建议",
    "关于完善乡村卫生室配药服务的建议",
    "关于支持泵与电机小微企业技术改造的建议",
    "关于规范工业区夜间废气排放监管的建议",
    "关于提升海岛民宿停车配套的建议",
    "关于加强渔民转产转业技能培训的建议",
    "关于优化76省道重点路口信号配时的建议",
    "关于盘活村级文化礼堂使用效率的建议",
    "关于完善灵活就业人员社保补缴政策宣传的建议",
)
STATEMENTS_A = (
    "菜市场应当原址改造，不要搬迁。",
    "改造期间应设临时摊位，方便老人买菜。",
    "摊位费不能因为改造而上涨。",
    "改造方案要先征求周边居民意见。",
    "保留市场里的老字号摊位。",
    "市场周边应增加非机动车停车位。",
)
STATEMENTS_B = (
    "菜市场应当搬到新区，彻底解决拥堵。",
    "新市场应当配建地下停车场。",
    "改造可以引入社会资本运营。",
    "市场应当统一收银、明码标价。",
    "旧址可以改成社区公园。",
    "搬迁后老城区保留几个便民早市点。",
)
CONSENSUS = (
    "市场卫生和排水必须尽快改善。",
    "改造进度要定期向群众公开。",
    "要加强食品安全快检。",
)

LOG = Callable[[str], None]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _studio_unit(code: str, name: str, area: Area, office: Unit) -> Unit:
    unit, _created = Unit.objects.update_or_create(
        code=code,
        defaults={"name": name, "kind": STUDIO.code, "area": area, "supervisor": office},
    )
    return unit


def _studios_build(rng: random.Random, log: LOG) -> list[Studio]:
    office = Unit.objects.get(code=CPPCC_OFFICE_UNIT)
    areas = {a.code: a for a in Area.objects.filter(code__in=[t[0] for t in TOWNS])}
    rows: list[tuple[str, str, StudioKind, Area, str, tuple[str, ...], str]] = []
    for code, town, town_fields in TOWNS:
        rows.append(
            (
                f"studio-{code}",
                f"{town}政协委员工作室",
                StudioKind.TOWN,
                areas[code],
                "",
                town_fields,
                f"{town}人民政府便民服务中心二楼",
            )
        )
    for i, (sector, sector_fields, code) in enumerate(SECTORS, start=1):
        rows.append(
            (
                f"studio-sector-{i:02d}",
                f"{sector}界别委员工作室",
                StudioKind.SECTOR,
                areas[code],
                sector,
                sector_fields,
                f"{areas[code].name}政协委员之家{i}号室",
            )
        )
    studios: list[Studio] = []
    serial = 0
    for unit_code, name, kind, area, sector, fields, address in rows:
        unit = _studio_unit(unit_code, name, area, office)
        weekday = 1 + len(studios) % 5
        studio, _created = Studio.objects.get_or_create(
            name=name,
            defaults={
                "unit": unit,
                "kind": kind,
                "town": area,
                "sector": sector,
                "fields": list(fields),
                "address": address,
                "office_hours": f"每周{'一二三四五'[weekday - 1]} 9:00–11:30，14:00–16:30",
            },
        )
        members = list(studio.members.all())
        if not members:
            for j in range(3 if len(studios) % 5 == 0 else 2):
                serial += 1
                user, _u = User.objects.get_or_create(
                    username=f"cppcc-{serial:03d}",
                    defaults={
                        "full_name": _name(rng),
                        "dingtalk_userid": f"ding-cppcc-{serial:03d}",
                    },
                )
                if _u:
                    user.set_unusable_password()
                    user.save()
                Membership.objects.get_or_create(user=user, unit=unit, role=MEMBER.code)
                field = fields[j % len(fields)]
                members.append(
                    Member.objects.create(
                        user=user,
                        name=user.full_name,
                        sector=sector or SECTORS[serial % len(SECTORS)][0],
                        studio=studio,
                        standing=j == 0,
                        profile=PROFILES[j % len(PROFILES)].format(field=field),
                    )
                )
            studio.head = members[0]
            # The head holds the studio unit's leader role: the sweep tells them first.
            if members[0].user is not None:
                Membership.objects.get_or_create(
                    user=members[0].user, unit=unit, role=Role.UNIT_LEADER
                )
            studio.rota = [
                {"weekday": weekday, "member": members[0].pk},
                {"weekday": 1 + (weekday + 1) % 5, "member": members[1].pk},
            ]
            studio.save(update_fields=["head", "rota"])
        studios.append(studio)
    log(f"studios: {len(studios)} with {Member.objects.count()} members")
    return studios


DEMO_LOGINS = (
    DemoLogin(
        "member_chen",
        "陈委员",
        "13800000031",
        MEMBER.code,
        "studio-331081100",
        description="泽国镇政协委员工作室 委员",
    ),
    DemoLogin(
        "cppcc_office",
        "林主任",
        "13800000032",
        Role.UNIT_LEADER,
        CPPCC_OFFICE_UNIT,
        description="市政协 社情民意信息办公室",
    ),
)


def _demo_member_link(studios: list[Studio]) -> None:
    """`member_chen` is a member of the 泽国镇 studio (the one the demo threads go to)."""
    user = User.objects.get(username="member_chen")
    if not Member.objects.filter(user=user).exists():
        studio = next(s for s in studios if s.unit.code == "studio-331081100")
        Member.objects.create(
            user=user,
            name=user.full_name,
            sector="经济界",
            studio=studio,
            standing=True,
            profile="泵业企业负责人，关注小微企业发展和技术工人培训。",
        )


def _at(day: datetime, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day.date(), time(hour, 15)))


def _threads_build(rng: random.Random, studios: list[Studio], log: LOG) -> list[Thread]:
    """179 threads over the last 60 days: waiting (some late), answered, invited, with a
    unit (some with its result back), rated."""
    # Units with a demo handler: 泽国镇人民政府 and 市住建局.
    handlers = {
        "town-331081100": User.objects.get(username="handler_zeguo"),
        "dept-housing": User.objects.get(username="handler_housing"),
    }
    units = list(Unit.objects.filter(code__in=handlers).order_by("code"))
    today = timezone.localtime()
    plan = (
        ["waiting"] * 24
        + ["answered"] * 36
        + ["invited"] * 14
        + ["with_unit"] * 12
        + ["unit_done"] * 10
        + ["closed"] * 83
    )
    threads = []
    for i, state in enumerate(plan):
        studio = studios[5] if i % 4 == 0 else rng.choice(studios)  # 泽国镇 gets a quarter
        members = list(studio.members.all())
        # A question in one of the studio's fields where there is one.
        _field, text = rng.choice([q for q in QUESTIONS if q[0] in studio.fields] or QUESTIONS)
        opened = today - timedelta(
            days=rng.randint(1, 60) if state != "waiting" else rng.randint(0, 8)
        )
        start = _at(opened, 8 + i % 10)
        thread = services.thread_open(
            studio=studio,
            member=members[i % len(members)] if i % 3 else None,
            phone=f"1395766{i:04d}",
            text=text,
            anonymous=i % 7 == 0,
            submission_key=f"demo-studio-{i}",
            now=start,
        )
        threads.append(thread)
        if state == "waiting":
            continue
        member_user = (thread.member or members[0]).user
        assert member_user is not None
        citizen = thread.case.submitter
        assert citizen is not None
        reply_at = start + timedelta(hours=rng.choice((3, 20, 30, 50, 100)))
        if state == "invited":
            services.thread_invite(
                thread=thread,
                user=member_user,
                text=f"欢迎您在{studio.office_hours.split('，')[0]}到工作室面谈，我们一起想办法。",
                now=reply_at,
            )
            continue
        if state in ("with_unit", "unit_done"):
            referral = services.thread_pass(
                thread=thread,
                user=member_user,
                unit=rng.choice(units),
                note="请协助核实并答复群众。",
                now=reply_at,
            )
            if state == "unit_done":
                assert referral.owner_unit is not None
                services.referral_result(
                    referral=referral,
                    user=handlers[referral.owner_unit.code],
                    text="已派员现场核实，问题已按政策答复并落实。",
                    now=reply_at + timedelta(days=3),
                )
            continue
        services.thread_message_post(
            thread=thread, user=member_user, text=rng.choice(ANSWERS), now=reply_at
        )
        if i % 5 == 0:
            services.thread_message_post(
                thread=thread,
                user=citizen,
                text="谢谢委员，还想问一下大概什么时候能有结果？",
                now=reply_at + timedelta(hours=5),
            )
        if state == "closed":
            services.thread_rate(
                thread=thread,
                user=citizen,
                rating=rng.choices(("satisfied", "basically", "unsatisfied"), (8, 3, 1))[0],
                comment="",
                now=reply_at + timedelta(days=1),
            )
    log(f"consultations: {len(threads)} threads")
    return threads


def _reports_build(rng: random.Random, threads: list[Thread], log: LOG) -> None:
    office = User.objects.get(username="cppcc_office")
    answered = [t for t in threads if t.first_reply_at is not None and t.member is not None]
    levels = [Level.WENLING, Level.TAIZHOU, Level.PROVINCE, Level.NATIONAL]
    bodies = {
        Level.WENLING: "温岭市委办公室",
        Level.TAIZHOU: "台州市政协",
        Level.PROVINCE: "浙江省政协",
        Level.NATIONAL: "全国政协办公厅",
    }
    today = timezone.localtime()
    for i in range(40):
        thread = answered[i % len(answered)]
        author = thread.member
        assert author is not None
        title = REPORT_TITLES[i % len(REPORT_TITLES)]
        report = services.report_draft(
            author=author,
            title=title if i < len(REPORT_TITLES) else f"{title}（{i // len(REPORT_TITLES) + 1}）",
            situation=f"近期工作室协商在线收到群众反映：{thread.case.body}",
            analysis="问题反映集中，涉及面广，现有政策宣传不到位，部门间协调机制尚不健全。",
            suggestion="一是明确牵头部门；二是简化办理流程；三是定期公开办理进展，接受群众监督。",
            coauthors=[m for m in thread.studio.members.all() if m != author][: i % 2],
            threads=[thread] if i % 3 else [],
            now=today - timedelta(days=rng.randint(1, 50)),
        )
        if i % 4 == 0:
            services.report_edit(
                report=report,
                user=office,
                title=report.title,
                situation=report.situation[:200],
                analysis=report.analysis,
                suggestion=report.suggestion,
            )
        reached = rng.choices((0, 1, 2, 3, 4), (10, 14, 8, 5, 3))[0]
        for level in levels[:reached]:
            services.report_adopt(
                report=report,
                user=office,
                level=level,
                body=bodies[level],
                adopted_on=(today - timedelta(days=rng.randint(0, 20))).date(),
            )
        if reached >= 2 and i % 2 == 0:
            services.report_instruct(
                report=report,
                user=office,
                leader="市委主要领导" if reached < 3 else "台州市分管副市长",
                level=levels[min(reached, 2) - 1],
                text="请相关部门认真研究，提出可行措施。",
            )
    log("reports: 40")


def _session_build(rng: random.Random, studios: list[Studio], log: LOG) -> None:
    """A 民生议事堂 on the 泽国 market: two camps (renovate in place / move) that agree on
    hygiene and openness; 30 participants, each voting on most statements."""
    office = User.objects.get(username="cppcc_office")
    studio = studios[5]
    session = services.session_create(
        studio=studio,
        user=office,
        topic="泽国农贸市场改造提升方案",
        background="泽国农贸市场建于1998年，设施老化、周边拥堵。镇政府提出原址改造和搬迁新建两个方案，"
        "邀请群众、委员和部门代表共同协商。",
        held_at=timezone.localtime() + timedelta(days=7),
        place="泽国镇政协委员工作室会议室",
    )
    kinds = (
        [ParticipantKind.PUBLIC] * 22
        + [ParticipantKind.MEMBER] * 4
        + [ParticipantKind.OFFICIAL] * 4
    )
    people = [services.participant_add(session=session, name=_name(rng), kind=k) for k in kinds]
    camp = {p.pk: (i % 2) for i, p in enumerate(people)}
    texts = (
        [(0, t) for t in STATEMENTS_A]
        + [(1, t) for t in STATEMENTS_B]
        + [(2, t) for t in CONSENSUS]
    )
    statements = []
    for j, (side, text) in enumerate(texts):
        authors = [p for p in people if side == 2 or camp[p.pk] == side]
        statements.append(
            (side, services.statement_post(participant=authors[j % len(authors)], text=text))
        )
    for p in people:
        for side, statement in statements:
            if rng.random() < 0.15:
                continue
            if side == 2 or side == camp[p.pk]:
                value = 1 if rng.random() < 0.85 else 0
            else:
                value = -1 if rng.random() < 0.8 else 0
            services.vote_cast(participant=p, statement=statement, value=value)
    log(f"民生议事堂: 1 session, {len(people)} participants, {len(statements)} statements")


def demo_studios_load(log: LOG) -> list[DemoLogin]:
    rng = random.Random(SEED)
    with transaction.atomic():
        studios = _studios_build(rng, log)
        logins = demo_logins_ensure(DEMO_LOGINS)
        _demo_member_link(studios)
    if Thread.objects.filter(case__submission_key__startswith="demo-studio-").exists():
        log("consultations already present")
        return logins
    with transaction.atomic():
        threads = _threads_build(rng, studios, log)
        _reports_build(rng, threads, log)
        if not Session.objects.exists():
            _session_build(rng, studios, log)
    return logins
