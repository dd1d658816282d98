"""The whole 民意 loop on a phone, in Debian's Chromium.

Open a station code → submit with a photo and a voice file → the deputy dispatches to
the suggested town office → the office uploads a result → the deputy rates 不满意 → it
returns → the office answers again → 满意 → the citizen sees the answer on the
tracking page. Screenshots: test-artifacts/screenshots/40-*.png."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import pytest

from tests.e2e.conftest import PHONE, SHOTS
from tests.sms_inbox import inbox

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.needs_modules("opinions"),
    pytest.mark.usefixtures("sms_inbox"),
]

CITIZEN = "13955550123"
STATION_UNIT = "station-331081100"


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"40-{name}.png"), full_page=True)


def photo_file(tmp_path: Path) -> Path:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (800, 600), (120, 160, 90))
    ImageDraw.Draw(image).rectangle((200, 150, 600, 450), fill=(200, 60, 40))
    path = tmp_path / "crossing.jpg"
    image.save(path, "JPEG")
    return path


def voice_file(tmp_path: Path) -> Path:
    """A real one-second WAV recording (a 440 Hz tone), written with the stdlib."""
    import math

    rate = 8000
    path = tmp_path / "voice.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                for i in range(rate)
            )
        )
    return path


def latest_code(phone: str) -> str:
    """The code as the citizen's phone got it, from the loopback SMS gateway."""
    return inbox().last_code(phone)


def log_in(page, base: str, username: str) -> None:
    from civicloop.core.demo import DEMO_PASSWORD

    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(f"{base}/workbench/")


def inbox_act(page, code: str) -> None:
    page.locator(f"#act-{code} button[type=submit]").click()
    page.wait_for_load_state("load")
    assert page.locator(".message-success").count() == 1, page.content()[:3000]


def core_act(page, code: str) -> None:
    page.locator(f"#action-{code} button[type=submit]").click()
    page.wait_for_load_state("load")
    assert page.locator(".message-success").count() == 1, page.content()[:3000]


@pytest.fixture
def station(settings, tmp_path: Path) -> dict[str, str]:
    """The demo city, and the code slug, name and town office of one of its stations (read
    from the database: the test asserts what the demo holds, not what it is known to hold)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    from django.core.cache import cache

    from civicloop.core.demo import demo_city_build
    from civicloop.core.units.selectors import unit_for_area
    from civicloop.opinions.codes import code_issue
    from civicloop.opinions.models import Station

    cache.clear()
    demo_city_build()
    row = Station.objects.select_related("unit__area").get(unit__code=STATION_UNIT)
    town_office = unit_for_area(area=row.unit.area, kinds=("town_office",))
    assert town_office is not None
    return {
        "slug": code_issue(station=row).slug,
        "name": row.name,
        "town_office": town_office.name,
    }


def test_the_opinion_loop_on_a_phone(
    chromium_page,
    live_server,
    station: dict[str, str],
    tmp_path: Path,
) -> None:
    from civicloop.core.cases.models import Case, TimelineEntry
    from civicloop.core.outbox.models import OutboxMessage

    page = chromium_page
    page.set_viewport_size(PHONE)
    base = live_server.url
    station_slug = station["slug"]

    # 1. The citizen scans the station's code and opens the form.
    page.goto(f"{base}/q/{station_slug}/")
    page.wait_for_load_state("load")
    shot(page, "01-code-page")
    submit_link = page.locator(f"a[href$='/q/{station_slug}/submit/']")
    if submit_link.count():
        submit_link.first.click()
    else:
        page.goto(f"{base}/q/{station_slug}/submit/")
    page.wait_for_url(f"{base}/q/{station_slug}/submit/")
    assert station["name"] in page.content()

    # 2. Text, a photo, a voice file (fallback input), phone + SMS code; submit.
    page.select_option("select[name=category]", "road")
    page.fill("textarea[name=body]", "牧屿村村口路口车流量大，早晚高峰经常堵车，希望增设红绿灯。")
    page.set_input_files("input[name=photos]", str(photo_file(tmp_path)))
    page.set_input_files("input[name=voice]", str(voice_file(tmp_path)))
    page.fill("input[name=address]", "泽国镇牧屿村村口")
    page.fill("input[name=phone]", CITIZEN)
    page.locator("[data-send-code]").click()
    page.wait_for_selector("[data-code-status].status-ok")
    page.fill("input[name=code]", latest_code(CITIZEN))
    shot(page, "02-submit-form")
    page.locator("[data-submit]").click()
    page.wait_for_url(f"{base}/opinions/submitted/**")
    number = page.locator("[data-tracking-number]").inner_text().strip()
    assert number.startswith("MY-")
    shot(page, "03-submitted")
    case = Case.objects.get(number=number)
    assert case.owner_unit.code == STATION_UNIT
    files = TimelineEntry.objects.get(case=case, action="submit").attachments.all()
    assert sorted(a.kind for a in files) == ["photo", "voice"]
    assert OutboxMessage.objects.filter(template="case_received", reference=number).exists()

    # 3. The deputy accepts and dispatches to the station's town office (suggested).
    log_in(page, base, "deputy_wang")
    page.goto(f"{base}/deputy/inbox/")
    assert number in page.locator("#section-new").inner_text()
    shot(page, "04-deputy-inbox")
    page.locator(f"#section-new a[href='/deputy/inbox/{number}/']").click()
    page.wait_for_url(f"{base}/deputy/inbox/{number}/")
    img = page.locator(".thumbs img").first
    img.wait_for()
    assert page.evaluate("i => i.complete && i.naturalWidth > 0", img.element_handle())
    assert page.locator("audio").count() == 1
    shot(page, "05-deputy-case-new")
    inbox_act(page, "accept")
    assert station["town_office"] in page.locator("[data-suggestion]").inner_text()
    page.select_option("#unit-dispatch", label=station["town_office"])
    page.check("#act-dispatch input[name=grade][value=town]")
    page.fill("#note-dispatch", "请核实路口情况并答复。")
    shot(page, "06-deputy-dispatch-form")
    inbox_act(page, "dispatch")
    assert page.locator("[data-state]").inner_text() == "待签收"

    # 4. The town office claims it and uploads a result with a photo.
    log_in(page, base, "handler_zeguo")
    page.goto(f"{base}/cases/{number}/")
    core_act(page, "claim")
    page.fill("#id_submit_result-note", "已联系交警部门现场勘查，计划下月安装信号灯。")
    page.set_input_files("#id_submit_result-photos", str(photo_file(tmp_path)))
    core_act(page, "submit_result")
    shot(page, "07-unit-result")

    # 5. The deputy rates 不满意: it returns to the office.
    log_in(page, base, "deputy_wang")
    page.goto(f"{base}/deputy/inbox/{number}/")
    page.check("#act-rate input[name=rating][value=unsatisfied]")
    page.fill("#note-rate", "时间太长，请尽快安装。")
    inbox_act(page, "rate")
    assert page.locator("[data-state]").inner_text() == "办理中"
    shot(page, "08-deputy-unsatisfied")

    # 6. The office answers again.
    log_in(page, base, "handler_zeguo")
    page.goto(f"{base}/cases/{number}/")
    page.fill("#id_submit_result-note", "信号灯已于本周安装完毕并投入使用。")
    core_act(page, "submit_result")

    # 7. The deputy rates 满意: closed; the citizen is told by SMS.
    log_in(page, base, "deputy_wang")
    page.goto(f"{base}/deputy/inbox/{number}/")
    page.check("#act-rate input[name=rating][value=satisfied]")
    page.fill("#note-rate", "处理到位。")
    inbox_act(page, "rate")
    assert page.locator("[data-state]").inner_text() == "已办结"
    shot(page, "09-deputy-closed")
    result_sms = OutboxMessage.objects.get(template="case_result", reference=number)
    assert result_sms.payload["phone"] == CITIZEN

    # 8. The citizen reads the answer on the tracking page and rates it (some days
    # later: the one-a-minute limit on SMS codes, counted in the cache, has passed).
    from django.core.cache import cache

    cache.clear()
    page.context.clear_cookies()
    page.goto(f"{base}/track/?number={number}")
    page.fill("input[name=phone]", CITIZEN)
    page.locator("button[name=send]").click()
    page.wait_for_selector("input[name=code]")
    page.fill("input[name=code]", latest_code(CITIZEN))
    shot(page, "10-track-code")
    page.locator("button[name=verify]").click()
    page.wait_for_url(f"{base}/track/{number}/")
    assert "信号灯已于本周安装完毕" in page.locator("[data-result]").inner_text()
    shot(page, "11-track-answer")
    page.check("input[name=rating][value=satisfied]")
    page.fill("textarea[name=comment]", "谢谢代表！")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_selector("[data-citizen-rating]")
    shot(page, "12-track-rated")
    case.refresh_from_db()
    assert case.state == "closed" and case.data["citizen_rating"]["rating"] == "satisfied"
