"""The 生命通道 dashboard in a real browser (Debian's Chromium, headless): the fire
brigade's officer signs in, the charts draw (ECharts from our own static files), the
live table lists the car on the lane and picks up a new one without a reload.

Screenshots: test-artifacts/screenshots/firelane-dashboard-{desktop,phone}.png.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.conftest import ROOT
from tests.e2e.conftest import DESKTOP, PHONE, SHOTS

# needs_modules: uses the firelane module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.needs_modules("firelane"),
]

ECHARTS_DIST = ROOT / "build" / "vendor" / "echarts"
ECHARTS_PREFIX = "vendor/echarts"


@pytest.fixture
def dashboard_settings(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """ECharts served from build/vendor (make setup copies it out of npm ci) under /static/vendor/echarts/, as the
    project's settings do; the live table polled every second instead of ten."""
    if not (ECHARTS_DIST / "echarts.min.js").exists():
        pytest.fail(f"{ECHARTS_DIST}/echarts.min.js missing: run `make setup` (npm ci)")
    dirs = list(getattr(settings, "STATICFILES_DIRS", []))
    if not any(isinstance(d, tuple) and d[0] == ECHARTS_PREFIX for d in dirs):
        settings.STATICFILES_DIRS = [*dirs, (ECHARTS_PREFIX, ECHARTS_DIST)]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from civicloop.firelane import views_dashboard

    monkeypatch.setattr(views_dashboard, "LIVE_POLL_S", 1)


@pytest.fixture
def dash_site(dashboard_settings):
    """A compound watched by the fire brigade: three cameras (two online), a car on the
    lane for 12 minutes (warned), and three weeks of stays, warnings and notices."""
    from civicloop.core.accounts.models import User
    from civicloop.core.areas.models import Area
    from civicloop.core.cases.models import Case
    from civicloop.core.demo import demo_city_build
    from civicloop.core.units.models import Unit
    from civicloop.firelane.models import Camera, Lane, Notice, Site, Stay

    demo_city_build()
    now = timezone.now()
    area = Area.objects.get(code="331081001")
    unit = Unit.objects.create(code="e2e-prop", name="东湖花园物业", kind="property", area=area)
    site = Site.objects.create(
        code="e2e-donghu",
        name="东湖花园",
        address="太平街道东湖路1号",
        area=area,
        unit=unit,
        enforcement_unit=Unit.objects.get(code="dept-fire"),
    )
    cams = [
        Camera.objects.create(
            site=site,
            serial=f"E2E-{i}",
            name=name,
            vendor=Camera.Vendor.HIKVISION,
            heartbeat_interval_s=300,
            status="online",
            last_seen_at=now - timedelta(seconds=seen),
        )
        for i, (name, seen) in enumerate([("东门", 30), ("北门", 60), ("地库", 7200)])
    ]
    lane = Lane.objects.create(camera=cams[0], name="东门消防通道")
    Stay.objects.create(
        site=site,
        lane=lane,
        plate="浙J12345",
        started_at=now - timedelta(minutes=12),
        last_seen_at=now,
        warned_at=now - timedelta(minutes=7),
    )
    officer_user = User.objects.get(username="officer_fire")
    for day in range(1, 22):
        for k in range(day % 4 + 1):
            started = now - timedelta(days=day, hours=k + 1)
            warn = timedelta(minutes=5 + k)
            stay = Stay.objects.create(
                site=site,
                lane=lane,
                plate=f"浙J{20000 + (day * 3 + k) % 13}",
                started_at=started,
                last_seen_at=started + warn + timedelta(minutes=4 + day % 5),
                warned_at=started + warn if k % 3 != 2 else None,
                ended_at=started + warn + timedelta(minutes=4 + day % 5),
            )
            if k == 0 and day % 2 == 0:
                case = Case.objects.create(
                    number=f"XF-E2E-{day:03d}",
                    channel="firelane",
                    workflow="firelane",
                    title="占用消防车通道",
                    body="e2e",
                    state="notice_issued",
                )
                Notice.objects.create(
                    case=case,
                    stay=stay,
                    number=f"GZ-E2E-{day:03d}",
                    plate=stay.plate,
                    site_name=site.name,
                    lane_name=lane.name,
                    minutes=30,
                    legal_basis="《中华人民共和国消防法》第六十条",
                    amount_fen=20000,
                    delivery=Notice.Delivery.SMS,
                    issued_at=started + timedelta(minutes=40),
                    issued_by=officer_user,
                    link_expires_at=started + timedelta(days=30),
                    paid_at=started + timedelta(days=1) if day % 4 == 0 else None,
                )
    return site


def _log_in(page, base: str, username: str) -> None:
    from civicloop.core.demo import DEMO_PASSWORD

    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(f"{base}/workbench/")


SERIES_TOTAL = """id => {
  const chart = echarts.getInstanceByDom(document.getElementById(id));
  if (!chart) return -1;
  return chart.getOption().series.reduce(
    (n, s) => n + s.data.reduce((m, v) => m + (typeof v === 'object' && v ? v.value : v || 0), 0), 0);
}"""


def test_dashboard_draws_charts_and_follows_the_lane(
    chromium_page, live_server, dash_site, tmp_path: Path
) -> None:
    from civicloop.firelane.models import Lane, Stay

    page = chromium_page
    page.emulate_media(reduced_motion="reduce")  # charts drawn at once, no animation
    base = live_server.url
    _log_in(page, base, "officer_fire")
    page.goto(f"{base}/firelane/dashboard/?site={dash_site.code}")
    page.wait_for_selector("[data-dashboard][data-ready=charts]")

    # ECharts came from our own static files, and every chart drew on a canvas with data.
    assert page.evaluate("typeof echarts !== 'undefined' && echarts.version") == "6.1.0"
    for chart_id in ("chart-days", "chart-response", "chart-repeat", "chart-cameras"):
        assert page.locator(f"#{chart_id} canvas").count() >= 1, chart_id
        assert page.evaluate(SERIES_TOTAL, chart_id) > 0, chart_id

    # The live table lists the car on the lane, masked.
    live = page.locator("#live-table tbody")
    assert "浙J·1***5" in live.inner_text()
    assert "东门消防通道" in live.inner_text()
    assert "浙J12345" not in page.content()
    assert page.locator("[data-kpi='cameras.online']").first.inner_text() == "2"

    page.screenshot(path=str(SHOTS / "firelane-dashboard-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    # The charts resize with the window.
    page.wait_for_function(
        f"document.getElementById('chart-days').clientWidth <= {PHONE['width']}", timeout=5000
    )
    page.screenshot(path=str(SHOTS / "firelane-dashboard-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)

    # A second car drives onto the lane: the table shows it without a reload.
    lane = Lane.objects.get(camera__site=dash_site, name="东门消防通道")
    now = timezone.now()
    Stay.objects.create(
        site=dash_site,
        lane=lane,
        plate="浙JD54321",
        started_at=now - timedelta(minutes=2),
        last_seen_at=now,
    )
    page.wait_for_function(
        "() => document.querySelector('#live-table tbody').innerText.includes('浙J·D****1')",
        timeout=10_000,
    )
    assert page.locator("[data-kpi='open_stays.count']").inner_text() == "2"
    assert "浙JD54321" not in page.content()
