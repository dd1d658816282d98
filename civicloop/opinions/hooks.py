"""What the 民意 module registers with core: its channel on the generic closed loop and
its demo data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.core import registry
from civicloop.core.registry import Channel, NavItem

OPINION = Channel(
    code="opinion",
    name=_("民意直达"),
    number_prefix="MY",
    workflow="generic_loop",
    description=_("群众通过代表码、联络站码向人大代表反映意见建议，由代表答复或交办相关单位办理。"),
    categories=(
        ("road", _("道路交通")),
        ("environment", _("环境卫生")),
        ("housing", _("住房建设")),
        ("safety", _("安全隐患")),
        ("education", _("教育")),
        ("health", _("医疗卫生")),
        ("market", _("市场监管")),
        ("other", _("其他")),
    ),
    open311=True,
    open311_group=_("人大代表"),
    keywords=("民意", "人大代表", "联络站"),
    owner_unit_kinds=("station", "town_office"),
)


def _has_inbox(user: Any) -> bool:
    from civicloop.opinions.selectors_inbox import inbox_station_unit_ids

    return bool(inbox_station_unit_ids(user=user))


def _has_stats(user: Any) -> bool:
    from civicloop.opinions.stats import stats_scope_for

    return stats_scope_for(user=user) is not None


def register() -> None:
    registry.register_channel(OPINION)
    registry.register_event_label("citizen_rating", _("群众评价"))
    registry.register_event_label("follow_up", _("回访"))
    registry.register_nav_item(NavItem(_("民意信箱"), "/deputy/inbox/", _has_inbox, order=10))
    registry.register_nav_item(NavItem(_("民意统计"), "/opinions/stats/", _has_stats, order=20))
    registry.register_demo_loader("opinions", demo_opinions_load)


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


def demo_opinions_load(log: Callable[[str], None]) -> None:
    """The stations, deputies, duty days and codes of every town (first), then a handful
    of opinions at every stage of the loop, submitted to the 泽国镇 station."""
    from civicloop.core.accounts.models import User
    from civicloop.core.areas.models import Area
    from civicloop.core.cases.models import Case
    from civicloop.core.cases.services import case_submit, transition
    from civicloop.core.units.models import Unit
    from civicloop.opinions.demo import demo_directory_load

    demo_directory_load(log)
    if Case.objects.filter(channel=OPINION.code, source="demo").exists():
        log("opinions already present")
        return
    station = Unit.objects.get(code="station-331081100")
    town = Unit.objects.get(code="town-331081100")
    deputy = User.objects.get(username="deputy_wang")
    handler = User.objects.get(username="handler_zeguo")
    start = timezone.now() - timedelta(days=3)
    for i, (area_name, category, title, body, state) in enumerate(DEMO_OPINIONS):
        area = Area.objects.get(name=area_name)
        case = case_submit(
            channel=OPINION.code,
            title=title,
            body=body,
            category=category,
            area=area,
            contact_name="陈群众",
            contact_phone=f"1390000{i:04d}",
            owner_unit=station,
            source="demo",
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
                case,
                action,
                actor,
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
