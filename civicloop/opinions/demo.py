"""Demo directory: a liaison station in each of Wenling's 16 towns and streets, 65 deputies
(王建国, the `deputy_wang` login, among them), reception days for the coming weeks and one
active code per deputy and station. Idempotent: a second run on the same day changes
nothing. Names are generated deterministically; any likeness to a real deputy is chance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from civicloop.core.accounts.models import User
from civicloop.core.accounts.roles import Role
from civicloop.core.areas.models import Area
from civicloop.core.cases.models import Case
from civicloop.core.cases.services import CaseDraft, case_submit, transition
from civicloop.core.demo import DemoLogin, demo_logins_ensure
from civicloop.core.forms.demo import DemoApplication, demo_application_load
from civicloop.core.forms.models import OwnerRule, Submitter
from civicloop.core.units.models import Membership, Unit
from civicloop.core.units.services import units_import_csv
from civicloop.opinions.codes import code_issue
from civicloop.opinions.demo_history import demo_history_load
from civicloop.opinions.hooks import DEPUTY, OPINION, STATION
from civicloop.opinions.models import Code, Deputy, DeputyLevel, DutyDay, Station

WEEKDAYS_HOURS = "周一至周五 8:30-11:30，14:00-17:30"
DEPUTIES_PER_STATION = 4
DUTY_WEEKS = 4


@dataclass(frozen=True)
class DemoStation:
    town_code: str
    address: str
    opening_hours: str
    speciality: str
    intro: str


DEMO_STATIONS = (
    DemoStation(
        "331081001",
        "温岭市太平街道东辉北路118号",
        WEEKDAYS_HOURS,
        "代表议事厅",
        "位于老城区中心，设代表议事厅，每月组织一次“代表面对面”议事活动。",
    ),
    DemoStation(
        "331081002",
        "温岭市城东街道万昌中路806号",
        WEEKDAYS_HOURS,
        "共享法庭",
        "与市人民法院共建共享法庭，群众可在站内在线立案、调解。",
    ),
    DemoStation(
        "331081003",
        "温岭市城西街道横湖中路56号",
        "周一至周五 8:30-17:30",
        "",
        "联系城西街道各村社，重点收集老旧小区改造方面的意见建议。",
    ),
    DemoStation(
        "331081004",
        "温岭市城北街道九龙大道1088号",
        WEEKDAYS_HOURS,
        "调解室",
        "设人民调解室，邻里纠纷可预约调解。",
    ),
    DemoStation(
        "331081005",
        "温岭市横峰街道横峰大道399号",
        "周一至周六 8:30-17:00",
        "",
        "服务横峰工业园区企业和职工，周六上午开放。",
    ),
    DemoStation(
        "331081100",
        "温岭市泽国镇文昌路88号",
        WEEKDAYS_HOURS,
        "代表议事厅、调解室",
        "全过程人民民主基层单元示范站，民主恳谈发源地之一，每个工作日都有代表进站接待。",
    ),
    DemoStation(
        "331081101",
        "温岭市大溪镇大洋路158号",
        WEEKDAYS_HOURS,
        "共享法庭",
        "服务大溪泵与电机产业集群，设企业服务窗口。",
    ),
    DemoStation(
        "331081102",
        "温岭市松门镇松海路28号",
        "周一至周五 8:00-17:00",
        "渔业纠纷调解室",
        "面向渔民群众，休渔期增加接待日。",
    ),
    DemoStation(
        "331081103",
        "温岭市箬横镇箬松路66号",
        WEEKDAYS_HOURS,
        "",
        "联系箬横镇农业园区和西瓜种植户。",
    ),
    DemoStation(
        "331081104",
        "温岭市新河镇长屿路210号",
        WEEKDAYS_HOURS,
        "调解室",
        "毗邻长屿硐天景区，设旅游纠纷调解点。",
    ),
    DemoStation(
        "331081105",
        "温岭市石塘镇海利路18号",
        "周一至周五 8:00-17:00",
        "共享法庭",
        "千年曙光碑所在地，关注海岛民生和渔港建设。",
    ),
    DemoStation(
        "331081106",
        "温岭市滨海镇滨海大道8号",
        WEEKDAYS_HOURS,
        "",
        "联系滨海镇各村，关注海塘安澜和围垦区建设。",
    ),
    DemoStation(
        "331081107",
        "温岭市温峤镇温峤大道128号",
        WEEKDAYS_HOURS,
        "代表议事厅",
        "服务温峤工量刃具产业，设代表议事厅。",
    ),
    DemoStation(
        "331081108",
        "温岭市城南镇城南大道56号",
        "周一至周五 8:30-17:30",
        "",
        "联系城南镇各村社，关注农村道路和饮用水。",
    ),
    DemoStation(
        "331081109",
        "温岭市石桥头镇石桥路99号",
        WEEKDAYS_HOURS,
        "调解室",
        "设调解室，每周四为集中接待日。",
    ),
    DemoStation(
        "331081110",
        "温岭市坞根镇坞根大道32号",
        "周一至周五 8:30-17:00",
        "红色教育基地",
        "依托坞根红色教育基地，组织代表学习和选民接待。",
    ),
)

SURNAMES = "陈林王张李叶郑江金蔡应颜梁周吴徐赵潘蒋阮池黄杨朱"
GIVEN_NAMES = (
    "海波",
    "建平",
    "晓燕",
    "志强",
    "丽萍",
    "伟军",
    "秀英",
    "国庆",
    "慧敏",
    "永明",
    "春华",
    "小军",
    "红霞",
    "德胜",
    "美玲",
    "文斌",
    "雪芳",
    "一鸣",
    "静怡",
    "玉兰",
    "宏伟",
    "晓东",
    "素琴",
    "爱国",
    "海燕",
    "振华",
    "婷婷",
    "立新",
    "桂芳",
    "明辉",
    "佳琪",
)
OCCUPATIONS = (
    "村党支部书记、村委会主任",
    "社区党委书记",
    "民营企业董事长",
    "中学教师",
    "镇卫生院院长",
    "律师事务所主任",
    "个体工商户",
    "农业专业合作社理事长",
    "外贸企业总经理",
    "渔业专业合作社社长",
    "退休干部",
    "社区医生",
    "泵业公司技术员",
    "鞋业公司负责人",
)
FOCUSES = (
    "乡村振兴",
    "教育和医疗",
    "交通出行",
    "人居环境整治",
    "民营经济发展",
    "居家养老服务",
    "基层法治建设",
    "渔业转型发展",
    "安全生产",
)
# A few deputies of the higher congresses among the 64 generated ones; the rest are
# deputies of the Wenling congress or of their town's congress.
HIGHER_LEVELS = {
    5: DeputyLevel.NATIONAL,
    12: DeputyLevel.PROVINCIAL,
    40: DeputyLevel.PROVINCIAL,
    3: DeputyLevel.TAIZHOU,
    20: DeputyLevel.TAIZHOU,
    33: DeputyLevel.TAIZHOU,
    50: DeputyLevel.TAIZHOU,
    58: DeputyLevel.TAIZHOU,
}
LEVEL_TITLES = {
    DeputyLevel.NATIONAL: "全国人大代表",
    DeputyLevel.PROVINCIAL: "浙江省人大代表",
    DeputyLevel.TAIZHOU: "台州市人大代表",
    DeputyLevel.WENLING: "温岭市人大代表",
    DeputyLevel.TOWN: "镇人大代表",
}
STATIONS_CSV = Path(__file__).resolve().parent / "data" / "wenling_stations.csv"
WANG_USERNAME = "deputy_wang"
WANG_STATION_TOWN = "331081100"


@dataclass(frozen=True)
class DemoDeputy:
    index: int
    name: str
    level: str
    occupation: str
    focus: str


def demo_deputy_names(count: int) -> list[str]:
    """`count` distinct two- or three-character names, the same on every run."""
    names: list[str] = []
    seen = {"王建国"}
    i = 0
    while len(names) < count:
        name = SURNAMES[(i * 7) % len(SURNAMES)] + GIVEN_NAMES[(i * 11) % len(GIVEN_NAMES)]
        i += 1
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _demo_deputies() -> list[DemoDeputy]:
    total = len(DEMO_STATIONS) * DEPUTIES_PER_STATION
    return [
        DemoDeputy(
            index=i,
            name=name,
            level=HIGHER_LEVELS.get(i, DeputyLevel.WENLING if i % 2 == 0 else DeputyLevel.TOWN),
            occupation=OCCUPATIONS[(i * 5) % len(OCCUPATIONS)],
            focus=FOCUSES[(i * 3) % len(FOCUSES)],
        )
        for i, name in enumerate(demo_deputy_names(total))
    ]


def _constituency(level: str, town: Area, number: int) -> str:
    if level == DeputyLevel.NATIONAL:
        return "浙江省代表团（台州市选出）"
    if level == DeputyLevel.PROVINCIAL:
        return "台州市选出"
    if level == DeputyLevel.TAIZHOU:
        return "温岭市选出"
    return f"{town.name}第{number}选区"


def _profile(*, name: str, level: str, town: Area, occupation: str, focus: str, year: int) -> str:
    return (
        f"{town.name}{occupation}。{year}年当选{LEVEL_TITLES[DeputyLevel(level)]}，"
        f"长期关注{focus}，定期进站接待选民，听取群众意见建议。"
    )


def _station(spec: DemoStation) -> Station:
    unit = Unit.objects.select_related("area").get(code=f"station-{spec.town_code}")
    existing = Station.objects.filter(unit=unit).first()
    if existing is not None:
        return existing
    town = Area.objects.get(code=spec.town_code)
    return Station.objects.create(
        unit=unit,
        name=unit.name,
        town=town,
        address=spec.address,
        lat=town.centroid_lat,
        lng=town.centroid_lng,
        opening_hours=spec.opening_hours,
        speciality=spec.speciality,
        intro=spec.intro,
    )


def _deputy_wang(station: Station) -> Deputy | None:
    user = User.objects.filter(username=WANG_USERNAME).first()
    if user is None:
        return None
    deputy = Deputy.objects.filter(user=user).first()
    if deputy is not None:
        return deputy
    return Deputy.objects.create(
        user=user,
        name=user.full_name or "王建国",
        level=DeputyLevel.WENLING,
        constituency=f"{station.town.name}第1选区",
        town=station.town,
        station=station,
        profile=(
            f"{station.town.name}牧屿村党支部书记。2021年当选温岭市人大代表，"
            "长期关注农村道路交通和河道整治，每周进站接待选民。"
        ),
        phone=user.phone,
    )


def _deputy_account(deputy: Deputy, *, index: int) -> User:
    """A deputy's account (role 人大代表 at their station), so the other applications of
    the people's congress (suggestions, the livelihood-project ballot, study records) have
    their deputies. No password: a real deputy is given one by the administrator."""
    user, created = User.objects.get_or_create(
        username=f"deputy_{index + 1:03d}",
        defaults={"full_name": deputy.name, "dingtalk_userid": f"ding-deputy-{index + 1:03d}"},
    )
    if created:
        user.set_unusable_password()
        user.save()
    Membership.objects.get_or_create(user=user, unit=deputy.station.unit, role=DEPUTY.code)
    return user


def _duty_dates(today: date, weekdays: tuple[int, ...]) -> list[date]:
    monday = today - timedelta(days=today.weekday())
    return [
        monday + timedelta(weeks=week, days=day)
        for week in range(DUTY_WEEKS)
        for day in weekdays
        if monday + timedelta(weeks=week, days=day) >= today
    ]


def demo_directory_load(log: Callable[[str], None] = lambda _m: None) -> None:
    """Create (or confirm) the demo stations, deputies, duty days and codes."""
    today = timezone.localdate()
    created = {"stations": 0, "deputies": 0, "duty_days": 0, "codes": 0}
    with transaction.atomic():
        before = Station.objects.count(), Deputy.objects.count(), Code.objects.count()
        stations = [_station(spec) for spec in DEMO_STATIONS]
        wang = _deputy_wang(next(s for s in stations if s.town.code == WANG_STATION_TOWN))
        existing = {
            (d.station_id, d.name): d for d in Deputy.objects.exclude(user__username=WANG_USERNAME)
        }
        roster: dict[int, list[Deputy]] = {s.pk: [] for s in stations}
        if wang is not None:
            roster.setdefault(wang.station_id, []).append(wang)
        for demo in _demo_deputies():
            station = stations[demo.index % len(stations)]
            number = demo.index // len(stations) + 2
            deputy = existing.get((station.pk, demo.name))
            level = demo.level
            if level == DeputyLevel.TOWN and station.town.kind == "street":
                level = DeputyLevel.WENLING  # a street (街道) has no congress of its own
            if deputy is None:
                deputy = Deputy.objects.create(
                    name=demo.name,
                    level=level,
                    constituency=_constituency(level, station.town, number),
                    town=station.town,
                    station=station,
                    profile=_profile(
                        name=demo.name,
                        level=level,
                        town=station.town,
                        occupation=demo.occupation,
                        focus=demo.focus,
                        year=2021 if level in (DeputyLevel.WENLING, DeputyLevel.TOWN) else 2022,
                    ),
                    phone=f"1390576{demo.index:04d}",
                )
            if deputy.user_id is None:
                deputy.user = _deputy_account(deputy, index=demo.index)
                deputy.save(update_fields=["user"])
            roster[station.pk].append(deputy)
        for station in stations:
            # 泽国镇 (the model station) receives every working day, the others twice a week.
            weekdays = (0, 1, 2, 3, 4) if station.town.code == WANG_STATION_TOWN else (1, 3)
            deputies = roster[station.pk]
            for n, day in enumerate(_duty_dates(today, weekdays)):
                deputy = deputies[n % len(deputies)]
                _duty, made = DutyDay.objects.get_or_create(
                    station=station,
                    deputy=deputy,
                    date=day,
                    defaults={"note": "9:00-11:30 进站接待"},
                )
                created["duty_days"] += made
            code_issue(station=station)
            for deputy in deputies:
                code_issue(deputy=deputy)
        after = Station.objects.count(), Deputy.objects.count(), Code.objects.count()
    created["stations"] = after[0] - before[0]
    created["deputies"] = after[1] - before[1]
    created["codes"] = after[2] - before[2]
    log(
        "opinions directory: "
        + ", ".join(f"{count} {what} created" for what, count in created.items())
    )


DEMO_LOGINS = (
    DemoLogin(
        "station_zeguo",
        "林站长",
        "13800000003",
        Role.HANDLER,
        "station-331081100",
        description="泽国镇人大代表联络站 工作人员",
    ),
    DemoLogin(
        WANG_USERNAME,
        "王建国",
        "13800000004",
        DEPUTY.code,
        "station-331081100",
        description="人大代表（泽国镇联络站）",
    ),
)


DEMO_OPINIONS = (
    (
        "泽国镇",
        "road",
        "牧屿村路口缺少红绿灯",
        "牧屿村村口路口车流量大，早晚高峰经常堵车，希望增设红绿灯。",
        "submitted",
    ),
    (
        "泽国镇",
        "environment",
        "山北村河道垃圾多",
        "山北村河道漂浮垃圾较多，夏天有异味，请尽快清理。",
        "accepted",
    ),
    (
        "泽国镇",
        "housing",
        "老旧小区楼道灯不亮",
        "泽国社区3幢楼道灯坏了一个多月，老人夜间上下楼不安全。",
        "dispatched",
    ),
    (
        "泽国镇",
        "safety",
        "菜市场消防通道被占用",
        "菜市场东侧消防通道长期停放三轮车，存在安全隐患。",
        "handling",
    ),
    (
        "泽国镇",
        "education",
        "幼儿园接送时段拥堵",
        "镇中心幼儿园门口接送时段拥堵严重，建议错峰放学。",
        "result_submitted",
    ),
    (
        "泽国镇",
        "other",
        "建议增设公交站台",
        "泽国社区到市区的公交站台没有遮雨棚，建议加装。",
        "closed",
    ),
)


APPS = Path(__file__).resolve().parent / "data" / "apps"
# 代表联系群众活动登记: a deputy records a visit; the station checks it and sends the
# matters marked for it on to the 民意 loop. Defined only as data (form + workflow).
VISIT_REGISTER = DemoApplication(
    code="visit_register",
    name="代表联系群众活动登记",
    name_en="Deputies' visits to constituents",
    xlsform=APPS / "visit_register.xlsx",
    workflow=APPS / "visit_register.workflow.json",
    settings={
        "description": "人大代表记录进站接待、入户走访、座谈等联系群众活动及群众反映的事项，"
        "经联络站核实后，需办理的事项转入民意处理闭环。",
        "number_prefix": "LX",
        "submitters": [Submitter.DEPUTY.value, Submitter.STAFF.value, Submitter.API.value],
        "owner_rule": OwnerRule.SUBMITTER_UNIT,
        "owner_unit_kinds": [STATION.code],
        "show_in_menu": True,
        "show_on_station": True,
        "show_in_cockpit": True,
    },
)


def demo_opinions_load(log: Callable[[str], None]) -> list[DemoLogin]:
    """The liaison stations (units), their logins, the stations, deputies, duty days and
    codes of every town (first), then a handful of opinions at every stage of the loop,
    submitted to the 泽国镇 station. Returns the demo logins."""
    with STATIONS_CSV.open(encoding="utf-8") as f:
        report = units_import_csv(stream=f)
    log(f"stations (units): {report.created} created, {report.unchanged + report.updated} present")
    logins = demo_logins_ensure(DEMO_LOGINS)
    demo_directory_load(log)
    demo_application_load(VISIT_REGISTER, log)
    demo_history_load(log)
    if Case.objects.filter(channel=OPINION.code, source="demo").exists():
        log("opinions already present")
        return logins
    station = Unit.objects.get(code="station-331081100")
    town = Unit.objects.get(code="town-331081100")
    deputy = User.objects.get(username="deputy_wang")
    handler = User.objects.get(username="handler_zeguo")
    start = timezone.now() - timedelta(days=3)
    for i, (area_name, category, title, body, state) in enumerate(DEMO_OPINIONS):
        area = Area.objects.get(name=area_name)
        case = case_submit(
            draft=CaseDraft(
                channel=OPINION.code,
                title=title,
                body=body,
                category=category,
                area=area,
                contact_name="陈群众",
                contact_phone=f"1390000{i:04d}",
                owner_unit=station,
                source="demo",
            ),
            now=start,
        )
        steps = {
            "submitted": [],
            "accepted": ["accept"],
            "dispatched": ["accept", "dispatch"],
            "handling": ["accept", "dispatch", "claim"],
            "result_submitted": ["accept", "dispatch", "claim", "submit_result"],
            "closed": ["accept", "dispatch", "claim", "submit_result", "rate"],
        }[state]
        for action in steps:
            actor = handler if action in ("claim", "submit_result") else deputy
            transition(
                case=case,
                action=action,
                actor=actor,
                unit=town if action == "dispatch" else None,
                grade="town" if action == "dispatch" else "",
                note={
                    "submit_result": "已安排人员现场处理，问题已解决。",
                    "rate": "处理及时。",
                }.get(action, ""),
                rating="satisfied" if action == "rate" else "",
                now=start + timedelta(hours=1),
            )
    log(f"opinions: {len(DEMO_OPINIONS)} created")
    return logins
