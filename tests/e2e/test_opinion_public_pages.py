"""A phone opens a station's and a deputy's public page (what scanning a code does)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PHONE, SHOTS

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.needs_modules("opinions"),
]


@pytest.fixture
def directory(settings, live_server) -> dict[str, str]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = live_server.url
    from civicloop.core.demo import demo_city_build
    from civicloop.opinions.models import Deputy

    demo_city_build()
    # Any deputy of the demo with a station will do; names are read back, not assumed.
    deputy = (
        Deputy.objects.select_related("station")
        .filter(codes__revoked_at__isnull=True, station__codes__revoked_at__isnull=True)
        .order_by("pk")
        .first()
    )
    assert deputy is not None and deputy.station is not None
    return {
        "deputy_code": deputy.codes.get(revoked_at__isnull=True).slug,
        "station_code": deputy.station.codes.get(revoked_at__isnull=True).slug,
        "station_id": str(deputy.station_id),
        "station_name": deputy.station.name,
        "deputy_id": str(deputy.pk),
        "deputy_name": deputy.name,
    }


def _code_image_loaded(page, kind: str) -> None:
    image = page.locator(f'img[data-code="{kind}"]')
    image.scroll_into_view_if_needed()
    assert (
        page.evaluate(f"() => document.querySelector('img[data-code=\"{kind}\"]').naturalWidth")
        > 100
    )


def test_station_and_deputy_pages_on_a_phone(
    chromium_page,
    live_server,
    directory: dict[str, str],
) -> None:
    page = chromium_page
    page.set_viewport_size(PHONE)

    # Scanning the station code opens the station page.
    page.goto(f"{live_server.url}/q/{directory['station_code']}/")
    page.wait_for_url(f"{live_server.url}/stations/{directory['station_id']}/")
    assert page.locator("h1").inner_text() == directory["station_name"]
    assert page.get_by_role("link", name="向联络站反映").is_visible()
    # Nothing sticks out sideways on a phone.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SHOTS / "30-station-phone.png"), full_page=True)
    _code_image_loaded(page, "station")

    # Scanning the deputy code opens the deputy page.
    page.goto(f"{live_server.url}/q/{directory['deputy_code']}/")
    page.wait_for_url(f"{live_server.url}/deputies/{directory['deputy_id']}/")
    assert page.locator("h1").inner_text() == directory["deputy_name"]
    cta = page.get_by_role("link", name="给代表留言")
    assert cta.is_visible()
    assert cta.bounding_box()["y"] < PHONE["height"], "the write button is above the fold"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SHOTS / "30-deputy-phone.png"), full_page=True)
    _code_image_loaded(page, "deputy")

    # The directory lists and searches.
    page.goto(f"{live_server.url}/deputies/")
    page.fill("input[name=q]", directory["deputy_name"])
    page.click(".dir-search button[type=submit]")
    page.wait_for_url("**/deputies/?q=*")
    assert page.locator(".person").count() == 1
    page.goto(f"{live_server.url}/deputies/")
    page.screenshot(path=str(SHOTS / "30-deputies-phone.png"), full_page=False)
    page.goto(f"{live_server.url}/stations/")
    page.screenshot(path=str(SHOTS / "30-stations-phone.png"), full_page=False)
