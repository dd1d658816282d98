"""The 生命通道 dashboard: its selectors on built data, who may see which sites, the
JSON it polls, plate masking, and a bounded number of queries whatever the data size.

Runs on SQLite and on PostgreSQL (DATABASE_URL): the per-day grouping in Asia/Shanghai
days and the percentiles take different SQL paths on each."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from civicloop.core.accounts.models import User
from civicloop.core.accounts.roles import Role
from civicloop.core.areas.models import Area
from civicloop.core.cases.models import Case
from civicloop.core.units.models import AreaGrant, Membership, Unit
from civicloop.firelane.access import firelane_scope_for
from civicloop.firelane.dashboard import (
    cameras_health,
    dashboard_payload,
    dashboard_sites,
    figures_per_day,
    figures_today,
    percentile_cont,
    plate_mask,
    repeat_offenders,
    response_times,
    stays_on_lanes_now,
)
from civicloop.firelane.models import Camera, Lane, Notice, Site, Stay

SHANGHAI = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _dashboard_language(settings) -> None:
    settings.LANGUAGE_CODE = "zh-hans"


@dataclass
class World:
    now: datetime
    today: date
    site_a: Site
    site_b: Site
    officer: User
    staff_a: User
    area_leader_b: User
    other: User
    admin: User


def _at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=SHANGHAI)


_case_seq = 0


def _case(site: Site, state: str = "notice_issued") -> Case:
    global _case_seq
    _case_seq += 1
    return Case.objects.create(
        number=f"XF-T-{_case_seq:05d}",
        channel="firelane",
        workflow="firelane",
        title="占用消防车通道",
        body="test",
        state=state,
        area=site.area,
        area_path=site.area.path,
    )


def _stay(site: Site, lane: Lane, plate: str, started: datetime, **kw) -> Stay:
    last_seen = kw.pop("last_seen_at", None) or kw.get("ended_at") or started
    return Stay.objects.create(
        site=site, lane=lane, plate=plate, started_at=started, last_seen_at=last_seen, **kw
    )


def _notice(stay: Stay, issued: datetime, by: User, paid: datetime | None = None) -> Notice:
    return Notice.objects.create(
        case=_case(stay.site),
        stay=stay,
        number=f"GZ-{stay.pk}",
        plate=stay.plate,
        site_name=stay.site.name,
        lane_name=stay.lane.name,
        minutes=30,
        legal_basis="《中华人民共和国消防法》第六十条",
        amount_fen=20000,
        delivery=Notice.Delivery.SMS,
        issued_at=issued,
        issued_by=by,
        link_expires_at=issued + timedelta(days=30),
        paid_at=paid,
    )


def _user(username: str) -> User:
    return User.objects.create(username=username, full_name=username)


@pytest.fixture
def world(demo_city) -> World:
    """Two sites watched by the fire brigade (dept-fire), each managed by its own
    property company; cameras in every state; stays over the last 40 days.

    `now` is today 15:00 Beijing time, so day boundaries are where the test says."""
    today = datetime.now(SHANGHAI).date()
    now = _at(today, 15)
    fire = Unit.objects.get(code="dept-fire")
    taiping = Area.objects.get(code="331081001")
    zeguo = Area.objects.get(name="泽国镇")
    prop_a = Unit.objects.create(code="t-prop-a", name="东湖物业", kind="property", area=taiping)
    prop_b = Unit.objects.create(code="t-prop-b", name="泽国物业", kind="property", area=zeguo)
    site_a = Site.objects.create(
        code="t-donghu",
        name="东湖花园",
        address="太平街道",
        area=taiping,
        unit=prop_a,
        enforcement_unit=fire,
    )
    site_b = Site.objects.create(
        code="t-zeguo",
        name="泽国高层",
        address="泽国镇",
        area=zeguo,
        unit=prop_b,
        enforcement_unit=fire,
    )

    def cam(site: Site, serial: str, seen_ago_s: int | None, interval: int, status: str) -> Camera:
        return Camera.objects.create(
            site=site,
            serial=f"T-{serial}",
            name=f"摄像机{serial}",
            vendor=Camera.Vendor.HIKVISION,
            heartbeat_interval_s=interval,
            status=status,
            last_seen_at=None if seen_ago_s is None else now - timedelta(seconds=seen_ago_s),
        )

    a1 = cam(site_a, "A1", 60, 300, "online")  # online
    cam(site_a, "A2", 3600, 300, "online")  # says online, silent for an hour: offline
    cam(site_a, "A3", 10, 300, "disabled")  # disabled, whatever it says
    b1 = cam(site_b, "B1", None, 300, "offline")  # never seen
    cam(site_b, "B2", 200, 120, "online")  # beyond its own (short) interval
    cam(site_b, "B3", 100, 120, "offline")  # within it: online
    lane_a = Lane.objects.create(camera=a1, name="1号楼消防通道")
    lane_b = Lane.objects.create(camera=b1, name="北侧通道")

    officer = User.objects.get(username="officer_fire")
    d = lambda n: today - timedelta(days=n)  # noqa: E731
    # On the lanes now.
    _stay(
        site_a,
        lane_a,
        "浙J12345",
        now - timedelta(minutes=40),
        warned_at=now - timedelta(minutes=35),
        eligible_at=now - timedelta(minutes=10),
        last_seen_at=now - timedelta(seconds=30),
        case=_case(site_a, state="review"),
    )
    _stay(site_b, lane_b, "浙JD12345", now - timedelta(minutes=8), last_seen_at=now)
    _stay(site_a, lane_a, "浙J11911", now - timedelta(minutes=20), exempt_reason="消防车")
    # Gone. Warned: (warn s, move s) = (300, 120), (360, 240), (600, 600).
    s2 = _stay(
        site_a,
        lane_a,
        "浙J12345",
        _at(d(2), 10),
        warned_at=_at(d(2), 10, 5),
        ended_at=_at(d(2), 10, 7),
    )
    _stay(
        site_a,
        lane_a,
        "浙J12345",
        _at(d(5), 10),
        warned_at=_at(d(5), 10, 6),
        ended_at=_at(d(5), 10, 10),
    )
    s4 = _stay(
        site_b,
        lane_b,
        "浙A88888",
        _at(d(1), 23, 30),
        warned_at=_at(d(1), 23, 40),
        ended_at=_at(d(1), 23, 50),
        eligible_at=_at(d(1), 23, 45),
    )
    _stay(site_b, lane_b, "浙A88888", _at(d(3), 9), ended_at=_at(d(3), 9, 2))
    # 00:30 Beijing time is 16:30 UTC the day before: it must count for today.
    _stay(site_a, lane_a, "浙J00001", _at(today, 0, 30), ended_at=_at(today, 0, 33))
    _stay(
        site_a,
        lane_a,
        "浙J00001",
        _at(d(40), 10),
        warned_at=_at(d(40), 10, 5),
        ended_at=_at(d(40), 11),
    )
    _notice(s4, _at(d(1), 23, 55), officer, paid=_at(today, 9))
    _notice(s2, _at(d(2), 11), officer)

    staff_a = _user("wuye_a")
    Membership.objects.create(user=staff_a, unit=prop_a, role=Role.HANDLER)
    area_leader_b = _user("leader_zeguo_area")
    AreaGrant.objects.create(user=area_leader_b, area=zeguo, role=Role.LEADER)
    return World(
        now=now,
        today=today,
        site_a=site_a,
        site_b=site_b,
        officer=officer,
        staff_a=staff_a,
        area_leader_b=area_leader_b,
        other=User.objects.get(username="handler_zeguo"),
        admin=User.objects.get(username="admin"),
    )


def _all(world: World):
    return Site.objects.filter(pk__in=[world.site_a.pk, world.site_b.pk])


# --------------------------------------------------------------------------- masking


@pytest.mark.parametrize(
    ("plate", "masked"),
    [
        ("浙J12345", "浙J·1***5"),
        ("浙J·12345", "浙J·1***5"),
        ("浙jd12345", "浙J·D****5"),  # new-energy plates have six characters after the city
        ("浙J 1234学", "浙J·1***学"),
        ("", ""),
        ("浙J1", "浙**"),
    ],
)
def test_plate_mask(plate: str, masked: str) -> None:
    assert plate_mask(plate) == masked


def test_percentile_cont_matches_sql_definition() -> None:
    assert percentile_cont([], 0.5) is None
    assert percentile_cont([7.0], 0.9) == 7.0
    assert percentile_cont([300, 300, 360, 600], 0.5) == 330
    assert percentile_cont([300, 300, 360, 600], 0.9) == pytest.approx(528)


# --------------------------------------------------------------------------- selectors


def test_cameras_online_follow_the_heartbeat_not_the_status(world: World) -> None:
    health = cameras_health(sites=_all(world), now=world.now)

    assert (health.total, health.online, health.offline, health.disabled) == (6, 2, 3, 1)
    # Never seen first, then the longest silent.
    assert [c.name for c in health.offline_list] == ["摄像机B1", "摄像机A2", "摄像机B2"]


def test_cars_on_lanes_now_are_open_not_exempt_and_masked(world: World) -> None:
    live = stays_on_lanes_now(sites=_all(world), now=world.now)

    assert (live.count, live.awaiting_review) == (2, 1)
    first, second = live.rows
    # From the first to the last sighting (39 min 30 s), not to the clock: whole minutes.
    assert (first.plate, first.site, first.lane, first.minutes) == (
        "浙J·1***5",
        "东湖花园",
        "1号楼消防通道",
        39,
    )
    assert first.warned and first.awaiting_review
    assert (second.plate, second.minutes, second.warned, second.awaiting_review) == (
        "浙J·D****5",
        8,
        False,
        False,
    )


def test_a_stay_whose_case_left_review_is_no_longer_awaiting_review(world: World) -> None:
    stay = Stay.objects.get(plate="浙J12345", ended_at__isnull=True)
    Case.objects.filter(pk=stay.case_id).update(state="noticed")

    live = stays_on_lanes_now(sites=_all(world), now=world.now)

    assert live.rows[0].warned and not live.rows[0].awaiting_review
    assert live.awaiting_review == 0


def test_figures_per_day_in_beijing_days(world: World) -> None:
    days = figures_per_day(sites=_all(world), now=world.now)

    assert len(days) == 30
    assert days[-1].day == world.today
    assert days[0].day == world.today - timedelta(days=29)
    by_day = {world.today - d.day: d for d in days}
    today, d1, d2, d3, d5 = (by_day[timedelta(days=n)] for n in (0, 1, 2, 3, 5))
    # Today: two on the lane now and the 00:30 one (exempt fire engine not counted).
    assert (today.stays, today.warnings, today.notices, today.paid, today.paid_fen) == (
        3,
        1,
        0,
        1,
        20000,
    )
    assert (d1.stays, d1.warnings, d1.notices, d1.paid) == (1, 1, 1, 0)
    assert (d2.stays, d2.warnings, d2.notices) == (1, 1, 1)
    assert (d3.stays, d3.warnings) == (1, 0)
    assert (d5.stays, d5.warnings) == (1, 1)
    assert sum(d.stays for d in days) == 7  # the stay 40 days ago is outside


def test_figures_today(world: World) -> None:
    today = figures_today(sites=_all(world), now=world.now)

    assert (today.stays, today.warnings, today.notices, today.paid, today.paid_fen) == (
        3,
        1,
        0,
        1,
        20000,
    )


def test_repeat_offenders_two_stays_or_more_in_30_days(world: World) -> None:
    rows = repeat_offenders(sites=_all(world), now=world.now)

    assert [(r.plate, r.stays, r.warned) for r in rows] == [
        ("浙J·1***5", 3, 3),
        ("浙A·8***8", 2, 1),
    ]


def test_response_times_median_and_p90(world: World) -> None:
    resp = response_times(sites=_all(world), now=world.now)

    # Sighting → warning for the four warned stays in the window: 300, 300, 360, 600 s.
    assert resp.warn.count == 4
    assert resp.warn.p50_s == pytest.approx(330)
    assert resp.warn.p90_s == pytest.approx(528)
    # Warning → moved for the three that left: 120, 240, 600 s.
    assert resp.move.count == 3
    assert resp.move.p50_s == pytest.approx(240)
    assert resp.move.p90_s == pytest.approx(528)
    # Per day of the warning, in Beijing time (the 23:40 warning stays on its day).
    by_day = {world.today - d.day: d for d in resp.days}
    assert by_day[timedelta(days=1)].warn.p50_s == pytest.approx(600)
    assert by_day[timedelta(days=1)].move.p50_s == pytest.approx(600)
    assert by_day[timedelta(days=0)].warn.count == 1
    assert by_day[timedelta(days=0)].move.count == 0
    assert by_day[timedelta(days=0)].move.p50_s is None
    assert by_day[timedelta(days=4)].warn.count == 0


# --------------------------------------------------------------------------- scope


def _scope_sites(user: User) -> set[str]:
    scope = firelane_scope_for(user=user)
    return set(dashboard_sites(scope=scope).values_list("code", flat=True))


def test_scope_officer_staff_area_leader_admin(world: World) -> None:
    # The brigade's officer sees every site it enforces (the demo's too).
    assert _scope_sites(world.officer) >= {"t-donghu", "t-zeguo"}
    assert _scope_sites(world.staff_a) == {"t-donghu"}
    assert _scope_sites(world.area_leader_b) == {"t-zeguo"}
    assert _scope_sites(world.admin) >= {"t-donghu", "t-zeguo"}
    assert not firelane_scope_for(user=world.other).can_view


# The page, and the JSON it polls (GET /api/v1/firelane/dashboard, the module's router).
URL_NAMES = {"page": "firelane_dashboard:page", "data": "api:firelane_dashboard"}


def _get(client: Client, user: User | None, name: str, **params: str):
    if user is not None:
        client.force_login(user)
    return client.get(reverse(URL_NAMES[name]), params)


def test_the_page_polls_the_api(client: Client, world: World) -> None:
    html = _get(client, world.officer, "page").content.decode()
    assert 'data-url="/api/v1/firelane/dashboard"' in html


def test_anonymous_is_sent_to_login(client: Client, world: World) -> None:
    response = _get(client, None, "page")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))
    data = _get(client, None, "data")
    assert data.status_code == 401
    assert data.json()["code"] == "unauthorized"


def test_someone_without_a_site_gets_403(client: Client, world: World) -> None:
    page = _get(client, world.other, "page")
    assert page.status_code == 403
    assert "无权查看生命通道看板" in page.content.decode()
    assert "浙J" not in page.content.decode()
    data = _get(client, world.other, "data")
    assert data.status_code == 403
    assert data.json()["code"] == "forbidden"
    assert "浙J" not in data.content.decode()


def test_property_staff_see_only_their_site(client: Client, world: World) -> None:
    data = _get(client, world.staff_a, "data").json()

    assert data["live"]["open_stays"]["count"] == 1
    assert {r["site"] for r in data["live"]["open_stays"]["rows"]} == {"东湖花园"}
    assert data["live"]["cameras"]["total"] == 3
    assert [r["plate"] for r in data["repeat"]] == ["浙J·1***5"]
    # Another company's site is not theirs to pick.
    assert _get(client, world.staff_a, "data", site="t-zeguo").status_code == 404
    html = _get(client, world.staff_a, "page").content.decode()
    assert "泽国高层" not in html and 'value="t-donghu"' in html


def test_officer_sees_every_site_of_the_brigade_and_can_filter(
    client: Client, world: World
) -> None:
    both = _get(client, world.officer, "data").json()
    only_b = _get(client, world.officer, "data", site="t-zeguo").json()

    assert both["live"]["open_stays"]["count"] == 2
    assert only_b["site"] == "t-zeguo"
    assert [r["site"] for r in only_b["live"]["open_stays"]["rows"]] == ["泽国高层"]
    assert only_b["live"]["cameras"]["total"] == 3


# --------------------------------------------------------------------------- JSON, page


def test_json_shape(client: Client, world: World) -> None:
    response = _get(client, world.officer, "data")
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    data = response.json()

    assert set(data) == {"generated_at", "site", "live", "totals", "days", "repeat", "response"}
    assert set(data["live"]) == {"cameras", "open_stays", "today"}
    assert set(data["live"]["cameras"]) == {
        "total",
        "online",
        "offline",
        "disabled",
        "offline_list",
    }
    row = data["live"]["open_stays"]["rows"][0]
    assert set(row) == {
        "plate",
        "site",
        "lane",
        "started_at",
        "started",
        "minutes",
        "warned",
        "awaiting_review",
    }
    assert len(data["days"]) == 30
    assert set(data["days"][0]) == {"day", "stays", "warnings", "notices", "paid", "paid_yuan"}
    assert set(data["response"]) == {"warn", "move", "days"}
    assert set(data["response"]["warn"]) == {"count", "p50_s", "p90_s", "p50_min", "p90_min"}
    assert data["response"]["warn"]["count"] == 4
    assert data["totals"]["stays"] == 7

    live_only = _get(client, world.officer, "data", part="live").json()
    assert set(live_only) == {"generated_at", "site", "live"}


def test_no_full_plate_in_the_page_or_the_json(client: Client, world: World) -> None:
    html = _get(client, world.officer, "page").content.decode()
    body = json.dumps(_get(client, world.officer, "data").json(), ensure_ascii=False)

    for text in (html, body):
        for plate in ("浙J12345", "浙JD12345", "浙A88888", "浙J11911", "浙J00001"):
            assert plate not in text
        assert "浙J·1***5" in text and "浙J·D****5" in text


def test_page_shows_figures_and_tables_without_script(client: Client, world: World) -> None:
    response = _get(client, world.officer, "page")
    html = response.content.decode()

    assert response.status_code == 200
    assert "生命通道运行看板" in html
    assert 'id="chart-days"' in html and 'id="live-table"' in html
    assert "vendor/echarts/echarts.min.js" in html and "cdn" not in html.lower()
    # The live table lists the car on the lane, the KPIs say how many.
    assert "1号楼消防通道" in html and "待审核" in html
    assert 'data-kpi="open_stays.count" aria-live="polite">2<' in html
    # The table fallback and the response-time summary as text.
    assert 'data-table="days"' in html and 'data-table="repeat"' in html
    assert "中位数" in html
    assert 'id="fl-data"' in html and 'id="fl-labels"' in html


def test_page_in_english(client: Client, world: World) -> None:
    client.force_login(world.officer)
    html = client.get(
        reverse("firelane_dashboard:page"), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    assert 'lang="en"' in html
    assert "Fire-lane dashboard" in html and "Cars on fire lanes now" in html
    assert "生命通道运行看板" not in html
    labels = json.loads(
        html.split('id="fl-labels" type="application/json">')[1].split("</script>")[0]
    )
    assert labels["awaiting_review"] == "Awaiting review"


# --------------------------------------------------------------------------- queries


def _more_data(world: World, n: int) -> None:
    lane = Lane.objects.filter(camera__site=world.site_a).first()
    assert lane is not None
    for i in range(n):
        started = world.now - timedelta(days=i % 28, hours=1 + i % 5)
        stay = _stay(
            world.site_a,
            lane,
            f"浙J{10000 + i % 17}",
            started,
            warned_at=started + timedelta(minutes=5 + i % 3),
            ended_at=None if i % 9 == 0 else started + timedelta(minutes=15),
            eligible_at=started + timedelta(minutes=30) if i % 4 == 0 else None,
        )
        if i % 3 == 0:
            _notice(
                stay,
                started + timedelta(minutes=40),
                world.officer,
                paid=started + timedelta(days=1),
            )


def _count_queries(client: Client, world: World, name: str = "data", **params: str) -> int:
    _get(client, world.officer, name, **params)  # a first request warms per-process caches
    with CaptureQueriesContext(connection) as ctx:
        response = _get(client, None, name, **params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_data(
    client: Client, world: World, django_assert_max_num_queries
) -> None:
    before = {
        (name, part): _count_queries(client, world, name, **part_q)
        for name, part, part_q in (
            ("data", "all", {}),
            ("data", "live", {"part": "live"}),
            ("page", "all", {}),
        )
    }
    _more_data(world, 120)
    after = {
        ("data", "all"): _count_queries(client, world, "data"),
        ("data", "live"): _count_queries(client, world, "data", part="live"),
        ("page", "all"): _count_queries(client, world, "page"),
    }

    assert after == before
    assert before[("data", "live")] < before[("data", "all")]
    with django_assert_max_num_queries(25):
        data = _get(client, None, "data").json()
    assert data["live"]["open_stays"]["count"] > 2
    with django_assert_max_num_queries(30):
        assert _get(client, None, "page").status_code == 200


def test_payload_queries_fixed(world: World, django_assert_max_num_queries) -> None:
    _more_data(world, 60)
    # Cameras 3, cars on lanes 2, today 2, per day 4, repeat 1, response 1 (2 on PG).
    with django_assert_max_num_queries(14):
        dashboard_payload(sites=_all(world), now=world.now)
