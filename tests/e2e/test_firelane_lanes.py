"""Drawing a fire lane on a camera's picture in a real browser (Debian's Chromium,
headless): the demo administrator opens the lane editor of camera DS-CY-001, clicks four
corners on the picture, names the lane and saves it; then changes it (undo one corner
with the keyboard), and taps a lane on a phone with a touch screen.

Screenshots: test-artifacts/screenshots/firelane-lanes-{empty,drawn,saved}.png (desktop),
firelane-lanes-{phone,phone-saved,placeholder-phone}.png (phone).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ROOT
from tests.e2e.conftest import PHONE, SHOTS

# needs_modules: uses the firelane module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.needs_modules("firelane"),
]

SCENE = ROOT / "civicloop" / "firelane" / "demo_images" / "hyperlpr_scene_0014.jpg"
# Corners clicked, as fractions of the picture: the lower band where the car stands.
CORNERS = [(0.15, 0.55), (0.85, 0.55), (0.95, 0.95), (0.05, 0.95)]


def _click_at(page: Any, fx: float, fy: float) -> None:
    # Scrolled into view first: with a taller top bar (more modules' links) the lower
    # corners may lie below the window, where a mouse click at page coordinates is lost.
    canvas = page.locator("#lane-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    canvas.click(position={"x": fx * box["width"], "y": fy * box["height"]})


def _picture_loaded(page: Any) -> None:
    page.wait_for_function(
        "() => { const i = document.getElementById('lane-picture');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )


def test_the_admin_draws_a_lane_on_the_cameras_picture(
    chromium_page: Any, live_server: Any, settings: Any
) -> None:
    from django.utils import timezone

    from civicloop.core.demo import DEMO_PASSWORD, demo_city_build
    from civicloop.firelane.models import Camera, Lane, Sighting
    from civicloop.firelane.tracking import lane_for
    from tests.firelane.conftest import store_image

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    demo_city_build()
    camera = Camera.objects.get(serial="DS-CY-001")
    demo_lane = camera.lanes.get()
    # The picture the camera last sent (as the intake stores it).
    name, digest = store_image(SCENE.read_bytes(), "scene.jpg")
    now = timezone.now()
    Sighting.objects.create(
        camera=camera,
        source=Sighting.Source.SIMULATOR,
        event_key="e2e-lanes-1",
        camera_time=now,
        taken_at=now,
        scene=name,
        scene_sha256=digest,
    )

    page = chromium_page
    script_errors: list[str] = []
    page.on("pageerror", lambda err: script_errors.append(str(err)))
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/workbench/")

    editor = f"{live_server.url}/firelane/cameras/DS-CY-001/lanes/"
    page.goto(editor)
    _picture_loaded(page)
    page.wait_for_selector("#lane-canvas polygon.lane-saved", state="attached")
    # The picture's own size (1600×1200) drives the drawing, and the demo lane is on it.
    assert page.locator("#lane-canvas").get_attribute("viewBox") == "0 0 1600 1200"
    assert page.locator("#lane-canvas polygon.lane-saved").count() == 1
    assert page.locator("#lane-canvas text.lane-label").text_content() == demo_lane.name
    page.screenshot(path=str(SHOTS / "firelane-lanes-empty.png"), full_page=True)

    for fx, fy in CORNERS:
        _click_at(page, fx, fy)
    assert page.locator("#lane-canvas circle.lane-handle").count() == 4
    assert "已点 4 个点" in page.locator("#lane-count").inner_text()
    page.fill("#lane-name", "东门北侧通道")
    page.screenshot(path=str(SHOTS / "firelane-lanes-drawn.png"), full_page=True)
    with page.expect_navigation():
        page.click("#lane-save")
    page.wait_for_selector("text=已保存通道「东门北侧通道」")

    lane = Lane.objects.get(camera=camera, name="东门北侧通道")
    assert len(lane.polygon) == 4
    for (x, y), (fx, fy) in zip(lane.polygon, CORNERS, strict=True):
        assert abs(x - fx) < 0.01 and abs(y - fy) < 0.01, lane.polygon
    # Tracking sees a plate in the middle of that band on the new lane.
    assert lane_for(lanes=[lane], box=[0.45, 0.7, 0.55, 0.75]) == lane
    page.wait_for_function(
        "() => document.querySelectorAll('#lane-canvas polygon.lane-saved').length === 2"
    )
    page.screenshot(path=str(SHOTS / "firelane-lanes-saved.png"), full_page=True)

    # Change it: the lane's corners come back as handles; Backspace on the picture
    # removes the last one, and the lane is saved with three.
    page.click(f"[data-edit='{lane.pk}']")
    assert "已点 4 个点" in page.locator("#lane-count").inner_text()
    # Drag corner 1 to a new place.
    box = page.locator("#lane-canvas").bounding_box()
    page.mouse.move(box["x"] + 0.15 * box["width"], box["y"] + 0.55 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.2 * box["width"], box["y"] + 0.5 * box["height"], steps=5)
    page.mouse.up()
    assert "已点 4 个点" in page.locator("#lane-count").inner_text()  # moved, not added
    page.focus("#lane-canvas")
    page.keyboard.press("Backspace")
    assert "已点 3 个点" in page.locator("#lane-count").inner_text()
    with page.expect_navigation():
        page.click("#lane-save")
    page.wait_for_selector("text=已保存通道「东门北侧通道」")
    lane.refresh_from_db()
    assert len(lane.polygon) == 3
    assert abs(lane.polygon[0][0] - 0.2) < 0.01 and abs(lane.polygon[0][1] - 0.5) < 0.01
    assert Lane.objects.filter(camera=camera).count() == 2

    # A phone with a touch screen: taps add corners; too few are refused before sending.
    phone = page.context.browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        storage_state=page.context.storage_state(),
    )
    mobile = phone.new_page()
    mobile.set_default_timeout(15_000)
    mobile.on("pageerror", lambda err: script_errors.append(str(err)))
    mobile.goto(editor)
    _picture_loaded(mobile)
    mobile.wait_for_selector("#lane-canvas polygon.lane-saved", state="attached")
    box = mobile.locator("#lane-canvas").bounding_box()
    for fx, fy in [(0.2, 0.2), (0.6, 0.2)]:
        mobile.touchscreen.tap(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    assert "已点 2 个点" in mobile.locator("#lane-count").inner_text()
    mobile.fill("#lane-name", "楼前空地")
    mobile.click("#lane-save")
    assert "至少要有 3 个点" in mobile.locator("#lane-problem").inner_text()
    # Nothing was sent, so "save" stays usable: a third tap and it saves.
    assert mobile.locator("#lane-save").is_enabled()
    mobile.screenshot(path=str(SHOTS / "firelane-lanes-phone.png"), full_page=True)
    assert not Lane.objects.filter(name="楼前空地").exists()
    box = mobile.locator("#lane-canvas").bounding_box()  # the refusal scrolled to the picture
    mobile.touchscreen.tap(box["x"] + 0.4 * box["width"], box["y"] + 0.45 * box["height"])
    assert "已点 3 个点" in mobile.locator("#lane-count").inner_text()
    with mobile.expect_navigation():
        mobile.click("#lane-save")
    mobile.wait_for_selector("text=已保存通道「楼前空地」")
    assert len(Lane.objects.get(camera=camera, name="楼前空地").polygon) == 3
    mobile.screenshot(path=str(SHOTS / "firelane-lanes-phone-saved.png"), full_page=True)

    # A camera that has sent no picture yet: a box of its shape to draw on, and a note.
    mobile.goto(f"{live_server.url}/firelane/cameras/DS-CY-002/lanes/")
    mobile.wait_for_selector("text=这台摄像机还没有传来画面")
    mobile.wait_for_selector("#lane-canvas polygon.lane-saved", state="attached")
    frame = mobile.locator("#lane-frame").bounding_box()
    assert abs(frame["width"] / frame["height"] - 1920 / 1080) < 0.02
    mobile.screenshot(path=str(SHOTS / "firelane-lanes-placeholder-phone.png"), full_page=True)
    phone.close()
    assert script_errors == []
