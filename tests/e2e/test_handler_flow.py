"""The closed loop in a real browser (Debian's Chromium, headless): a station clerk
accepts and dispatches a new opinion, the town office claims it and submits a result
with a photo, the station rates it and the case is closed.

Screenshots of every page go to test-artifacts/screenshots/ (desktop 1280x800, and
phone 390x844 for the workbench and the case page).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.e2e.conftest import DESKTOP, PHONE, SHOTS

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.needs_modules("opinions"),
]


@pytest.fixture
def flow_case(settings, tmp_path: Path):
    """The demo city and one newly submitted opinion at the 泽国镇 station."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    from civicloop.core.areas.models import Area
    from civicloop.core.cases.services import CaseDraft, case_submit
    from civicloop.core.demo import demo_city_build
    from civicloop.core.units.models import Unit

    demo_city_build()
    return case_submit(
        draft=CaseDraft(
            channel="opinion",
            title="泽国大道人行道地砖松动",
            body="泽国大道中段人行道地砖松动，下雨天踩上去会溅水，老人容易摔倒。",
            area=Area.objects.get(name="泽国镇"),
            contact_name="陈小明",
            contact_phone="13912345678",
            owner_unit=Unit.objects.get(code="station-331081100"),
        )
    )


def photo_file(tmp_path: Path) -> Path:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (70, 130, 180))
    ImageDraw.Draw(image).rectangle((120, 120, 520, 360), fill=(230, 230, 230))
    path = tmp_path / "现场照片.jpg"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    path.write_bytes(out.getvalue())
    return path


def shot(page, name: str, *, phone: bool = False) -> None:
    page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)
    if phone:
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=True)
        page.set_viewport_size(DESKTOP)


def log_in(page, base: str, username: str, *, screenshot: str = "") -> None:
    from civicloop.core.demo import DEMO_PASSWORD

    page.goto(f"{base}/login/")
    if screenshot:
        shot(page, screenshot, phone=True)
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(f"{base}/workbench/")


def log_out(page, base: str) -> None:
    page.locator(".logout-form button").click()
    page.wait_for_url(f"{base}/login/")


def act(page, code: str) -> None:
    page.locator(f"#action-{code} button[type=submit]").click()
    page.wait_for_load_state("load")
    assert page.locator(".message-success").count() == 1, page.content()


def test_handler_flow(chromium_page, live_server, flow_case, tmp_path: Path) -> None:
    from civicloop.core.cases.models import Case

    page = chromium_page
    base = live_server.url
    number = flow_case.number
    case_url = f"{base}/cases/{number}/"

    # 1. The station clerk accepts and dispatches the new opinion.
    log_in(page, base, "station_zeguo", screenshot="01-login")
    shot(page, "02-workbench-station", phone=True)
    page.goto(f"{base}/cases/")
    shot(page, "03-case-list", phone=True)
    page.goto(case_url)
    assert page.locator(".case-head-meta .state").inner_text() == "待受理"
    assert "139****5678" in page.content()
    shot(page, "04-case-submitted", phone=True)
    act(page, "accept")
    assert page.locator(".case-head-meta .state").inner_text() == "已受理"
    shot(page, "05-case-accepted")
    page.select_option("#id_dispatch-unit", label="泽国镇人民政府")
    page.check("#action-dispatch input[name=dispatch-grade][value=town]")
    act(page, "dispatch")
    assert page.locator(".case-head-meta .state").inner_text() == "待签收"
    shot(page, "06-case-dispatched")
    log_out(page, base)

    # 2. The town office sees it under 待签收, claims it, submits a result with a photo.
    log_in(page, base, "handler_zeguo")
    assert number in page.locator("#to_accept").inner_text()
    shot(page, "07-workbench-handler", phone=True)
    page.locator(f"#to_accept a[href='/cases/{number}/']").click()
    page.wait_for_url(case_url)
    act(page, "claim")
    assert page.locator(".case-head-meta .state").inner_text() == "办理中"
    shot(page, "08-case-handling", phone=True)
    page.fill("#id_submit_result-note", "已安排施工队重新铺设地砖，现场已恢复平整。")
    page.set_input_files("#id_submit_result-photos", str(photo_file(tmp_path)))
    act(page, "submit_result")
    assert page.locator(".case-head-meta .state").inner_text() == "待评价"
    thumb = page.locator(".thumbs img").first
    thumb.wait_for()
    # The thumbnail is fetched after the page loads: wait for it to arrive and decode.
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )
    shot(page, "09-case-result-submitted", phone=True)
    log_out(page, base)

    # 3. The station rates it 满意: the case is closed, the timeline complete.
    log_in(page, base, "station_zeguo")
    page.goto(case_url)
    page.check("#action-rate input[name=rate-rating][value=satisfied]")
    page.fill("#id_rate-note", "处理及时，谢谢。")
    act(page, "rate")
    assert page.locator(".case-head-meta .state").inner_text() == "已办结"
    actions = page.locator(".timeline-entry").evaluate_all(
        "items => items.map(i => i.dataset.action)"
    )
    assert actions == ["submit", "accept", "dispatch", "claim", "submit_result", "rate"]
    assert page.locator("#h-actions").count() == 0  # nothing left to do
    shot(page, "10-case-closed", phone=True)

    # 4. The same page in English.
    page.locator(".lang-form button").click()
    page.wait_for_url(case_url)
    assert page.locator(".case-head-meta .state").inner_text() == "Closed"
    shot(page, "11-case-closed-en", phone=True)

    case = Case.objects.get(number=number)
    assert (case.state, case.rating) == ("closed", "satisfied")
