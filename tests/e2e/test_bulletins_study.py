"""A deputy on a phone opens a required course (with its video, served by ranges),
finishes it, and finds it in the yearly study record; the 代表工委 sees who has not
finished it. Screenshots: test-artifacts/screenshots/bulletins-*.png."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import PHONE, SHOTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.needs_modules("bulletins"),
]

DESKTOP = {"width": 1366, "height": 900}
COURSE = "代表履职培训：如何提出高质量的代表建议"


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"bulletins-{name}.png"), full_page=True)


def log_in(page: Any, base: str, username: str) -> None:
    from civicloop.core.demo import DEMO_PASSWORD

    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(f"{base}/workbench/")


@pytest.fixture
def demo(settings: Any, tmp_path: Any) -> None:
    from civicloop.bulletins.demo import demo_bulletins_load
    from civicloop.core.areas.services import areas_import_csv
    from civicloop.core.demo import AREAS_CSV, DEMO_LOGINS, UNITS_CSV, demo_user_ensure
    from civicloop.core.units.services import units_import_csv

    settings.MEDIA_ROOT = str(tmp_path / "media")
    with AREAS_CSV.open(encoding="utf-8") as f:
        areas_import_csv(stream=f)
    with UNITS_CSV.open(encoding="utf-8") as f:
        units_import_csv(stream=f)
    for login in DEMO_LOGINS:
        demo_user_ensure(login)
    demo_bulletins_load(lambda _m: None)


def test_deputy_finishes_a_required_course(
    demo: None, live_server: Any, chromium_page: Any
) -> None:
    from civicloop.bulletins.models import Item, ReadRecord

    page = chromium_page
    base = live_server.url
    course = Item.objects.get(title=COURSE)
    # Given deputy_wang has not studied the course yet.
    ReadRecord.objects.filter(item=course, user__username="deputy_wang").delete()

    page.set_viewport_size(PHONE)
    log_in(page, base, "deputy_wang")
    page.goto(f"{base}/bulletins/?section=learning")
    assert page.locator("[data-unread-required]").is_visible()
    shot(page, "phone-list")

    # The page's clock is faked so the reading heartbeat (every 15 s) can be fast-forwarded.
    page.clock.install()
    page.locator(f"[data-item='{course.pk}'] h2 a").click()
    page.wait_for_url(f"{base}/bulletins/items/{course.pk}/")
    # The video loads through range requests and can play.
    page.wait_for_function(
        "() => { const v = document.querySelector('[data-video]'); return v && v.readyState >= 1; }"
    )
    played = page.evaluate(
        "async () => { const v = document.querySelector('[data-video]'); v.muted = true;"
        " await v.play(); await new Promise(r => setTimeout(r, 500)); return v.currentTime; }"
    )
    assert played > 0
    assert page.locator("[data-pdf]").count() == 1
    shot(page, "phone-course")

    # Time on the page is reported by the heartbeat (bounded by the server's own clock).
    with page.expect_response(lambda r: r.url.endswith("/reading") and r.status == 200):
        page.clock.run_for(16_000)
    assert ReadRecord.objects.get(item=course, user__username="deputy_wang").seconds > 0

    page.locator("[data-finish]").click()
    page.wait_for_selector("[data-finished]")
    record = ReadRecord.objects.get(item=course, user__username="deputy_wang")
    assert record.finished_at is not None

    page.goto(f"{base}/bulletins/study/")
    row = page.locator(f"[data-study-row='{course.pk}']")
    assert row.is_visible() and row.locator(".bl-done").count() == 1
    shot(page, "phone-study")

    # The 代表工委 sees, on a desktop, who has not finished it; deputy_wang is not among them.
    page.set_viewport_size(DESKTOP)
    log_in(page, base, "npc_office")
    page.goto(f"{base}/bulletins/report/")
    shot(page, "desktop-report")
    page.locator(f"[data-report-row='{course.pk}'] a").click()
    page.wait_for_url(f"{base}/bulletins/report/{course.pk}/")
    assert page.locator("[data-pending='deputy_wang']").count() == 0
    assert page.locator("[data-pending]").count() >= 1
    shot(page, "desktop-pending")
    page.goto(f"{base}/bulletins/items/{course.pk}/")
    shot(page, "desktop-course")
