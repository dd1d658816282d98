"""The cockpit in Debian's Chromium: the 人大常委会 opens the city cockpit, the map of
Wenling draws from the packaged outline with the towns and stations on it, the trends
draw, a figure drills down to its cases; the 1920×1080 wall and a leader's phone.

Screenshots: test-artifacts/screenshots/cockpit-{desktop,wall-1920x1080,phone}.png."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import PHONE, SHOTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.needs_modules("opinions"),
]


def _log_in(page, base: str, username: str) -> None:
    from civicloop.core.demo import DEMO_PASSWORD

    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/(workbench|cockpit)/"))


def test_the_cockpit_on_the_wall_a_desktop_and_a_phone(
    chromium_page, live_server, demo_year, settings
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    page = chromium_page
    page.emulate_media(reduced_motion="reduce")
    base = live_server.url
    _log_in(page, base, "npc_office")

    page.goto(f"{base}/cockpit/")
    page.wait_for_selector("[data-cockpit][data-ready=map]")
    assert page.locator("#cockpit-map canvas").count() >= 1
    towns = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('cockpit-map'))"
        ".getOption().series[0].data.length"
    )
    page.screenshot(path=str(SHOTS / "cockpit-desktop.png"), full_page=True)
    assert towns >= 3
    assert (
        page.evaluate(
            "() => echarts.getInstanceByDom(document.getElementById('cockpit-trend-week'))"
            ".getOption().series.length"
        )
        >= 2
    )
    page.screenshot(path=str(SHOTS / "cockpit-desktop.png"), full_page=True)

    # Drill down: the 办理中 figure opens the list of exactly those cases.
    kpi = page.locator("a.kpi", has_text="办理中")
    open_count = kpi.locator(".kpi-value").inner_text()
    kpi.click()
    page.wait_for_url(re.compile(r"/cases/\?"))
    assert f"共 {open_count} 件" in page.locator("main").inner_text()

    # The 人大 applications are one menu of the top bar: it opens, shows its links, and
    # closes on Escape.
    menu = page.locator("details[data-nav-menu]", has_text="人大")
    menu.locator("summary").click()
    links = menu.locator(".nav-menu-links a")
    assert links.count() >= 2 and links.first.is_visible()
    page.screenshot(path=str(SHOTS / "topbar-menu-desktop.png"))
    page.keyboard.press("Escape")
    assert not links.first.is_visible()

    # The wall of the 联络总站: 1920×1080, no page chrome, refreshing itself.
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{base}/cockpit/?screen=1")
    page.wait_for_selector("[data-cockpit][data-ready=map]")
    assert page.locator(".topbar").is_hidden()
    page.screenshot(path=str(SHOTS / "cockpit-wall-1920x1080.png"))

    # A town's 人大主席团 on a phone: its town only, readable without zooming.
    page.set_viewport_size(PHONE)
    page.context.clear_cookies()
    _log_in(page, base, "npc_zeguo")
    page.goto(f"{base}/cockpit/")
    page.wait_for_selector("[data-cockpit][data-ready]")
    assert "泽国镇人大主席团驾驶舱" in page.locator("h1").inner_text()
    page.screenshot(path=str(SHOTS / "cockpit-phone.png"), full_page=True)
    town_menu = page.locator("details[data-nav-menu]")
    if town_menu.count():
        town_menu.first.locator("summary").click()
        page.screenshot(path=str(SHOTS / "topbar-menu-phone.png"))
    wide = page.evaluate(
        "() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)"
        ".map(e => e.tagName + '.' + e.className).slice(0, 5)"
    )
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the page scrolls sideways on a phone: {wide}"
