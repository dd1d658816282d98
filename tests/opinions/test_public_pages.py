"""Public directory pages (no login): lists, search, detail pages, code images."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
import zxingcpp
from django.test import Client
from PIL import Image

from civicloop.opinions.codes import code_issue, code_reissue
from civicloop.opinions.models import Deputy, DeputyLevel, Station

pytestmark = pytest.mark.django_db

SITE = "https://my.wenling.example.cn"
IMG = re.compile(r'<img[^>]*data-code="(?P<kind>deputy|station)"[^>]*src="(?P<src>[^"]+)"')


@pytest.fixture
def wang(demo_city: None) -> Deputy:
    return Deputy.objects.select_related("station", "user").get(user__username="deputy_wang")


def _code_img(html: str) -> tuple[str, str]:
    matches = IMG.findall(html)
    assert len(matches) == 1, "one code <img> per page"
    return matches[0]


def _decode(client: Client, src: str) -> str:
    response = client.get(src)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "max-age" in response["Cache-Control"] and "public" in response["Cache-Control"]
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.content)))
    assert len(results) == 1
    return results[0].text


def _follow_to_path(client: Client, url: str) -> str:
    assert url.startswith(SITE + "/")
    response = client.get(url.removeprefix(SITE), follow=True)
    assert response.status_code == 200
    return response.request["PATH_INFO"]


def test_deputy_list_shows_deputies_without_login(demo_city: None) -> None:
    response = Client().get("/deputies/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "找人大代表" in html
    assert f"共 {Deputy.objects.count()} 位代表" in html
    assert 'rel="next"' in html  # paginated, 20 a page


def test_deputy_search_by_name_town_and_level(wang: Deputy) -> None:
    client = Client()
    html = client.get("/deputies/", {"q": wang.name}).content.decode()
    assert f'href="/deputies/{wang.pk}/"' in html
    assert "共 1 位代表" in html
    html = client.get("/deputies/", {"town": "331081100"}).content.decode()
    zeguo = Deputy.objects.filter(town__code="331081100").count()
    assert f"共 {zeguo} 位代表" in html
    assert wang.name in html
    html = client.get("/deputies/", {"level": DeputyLevel.NATIONAL}).content.decode()
    national = Deputy.objects.get(level=DeputyLevel.NATIONAL)
    assert national.name in html and "共 1 位代表" in html
    html = client.get("/deputies/", {"q": "没有这个人"}).content.decode()
    assert "没有找到符合条件的代表" in html


def test_deputy_page_shows_who_and_where_and_how_to_write(wang: Deputy) -> None:
    code = code_issue(deputy=wang)
    response = Client().get(f"/deputies/{wang.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("王建国", "温岭市人大代表", "泽国镇第1选区", "泽国镇", wang.station.name):
        assert text in html
    assert wang.profile[:10] in html
    assert f'href="/stations/{wang.station_id}/"' in html
    assert f'href="/q/{code.slug}/submit/"' in html and "给代表留言" in html
    assert "进站接待日" in html
    assert 'class="avatar avatar-initial' in html  # no photo: a neutral avatar
    assert wang.phone not in html
    assert f"/codes/{code.slug}/poster.pdf" in html


def test_deputy_page_code_decodes_to_a_url_that_leads_back(settings, wang: Deputy) -> None:
    settings.SITE_URL = SITE
    client = Client()
    html = client.get(f"/deputies/{wang.pk}/").content.decode()
    kind, src = _code_img(html)
    assert kind == "deputy"
    url = _decode(client, src)
    code = wang.codes.get(revoked_at__isnull=True)
    assert url == f"{SITE}/q/{code.slug}/"
    assert _follow_to_path(client, url) == f"/deputies/{wang.pk}/"


def test_station_page_code_decodes_to_a_url_that_leads_back(settings, demo_city: None) -> None:
    settings.SITE_URL = SITE
    station = Station.objects.get(unit__code="station-331081102")
    client = Client()
    response = client.get(f"/stations/{station.pk}/")
    html = response.content.decode()
    kind, src = _code_img(html)
    assert kind == "station"
    url = _decode(client, src)
    assert url.startswith(SITE + "/q/")
    assert _follow_to_path(client, url) == f"/stations/{station.pk}/"


def test_station_page_shows_address_hours_speciality_duty_and_deputies(wang: Deputy) -> None:
    station = wang.station
    code = code_issue(station=station)
    html = Client().get(f"/stations/{station.pk}/").content.decode()
    for text in (station.name, station.address, station.opening_hours, "代表议事厅", "调解室"):
        assert text in html
    assert "向联络站反映" in html and f'href="/q/{code.slug}/submit/"' in html
    for deputy in station.deputies.all():
        assert f'href="/deputies/{deputy.pk}/"' in html
    duty = station.duty_days.order_by("date").last()
    assert duty is not None and duty.deputy.name in html


def test_station_list_and_search(demo_city: None) -> None:
    client = Client()
    html = client.get("/stations/").content.decode()
    assert "共 16 个联络站" in html
    assert all(name in html for name in Station.objects.values_list("name", flat=True))
    html = client.get("/stations/", {"q": "共享法庭"}).content.decode()
    assert "共 3 个联络站" in html
    html = client.get("/stations/", {"town": "331081105"}).content.decode()
    assert "共 1 个联络站" in html and "石塘镇" in html


def test_revoked_deputy_code_still_opens_the_station_page(settings, wang: Deputy) -> None:
    settings.SITE_URL = SITE
    old = code_issue(deputy=wang)
    new = code_reissue(code=old, reason="海报被涂改")
    client = Client()
    response = client.get(f"/q/{old.slug}/", follow=True)
    assert response.request["PATH_INFO"] == f"/stations/{wang.station_id}/"
    # The page now shows (and encodes) the new code.
    html = client.get(f"/deputies/{wang.pk}/").content.decode()
    assert f"/codes/{new.slug}.png" in html and f"/codes/{old.slug}.png" not in html


def test_deputy_page_by_code_slug_redirects_to_the_canonical_page(wang: Deputy) -> None:
    code = code_issue(deputy=wang)
    response = Client().get(f"/deputies/{code.slug}/")
    assert response.status_code == 302
    assert response["Location"] == f"/deputies/{wang.pk}/"


def test_inactive_deputy_and_unknown_ids_are_not_found(wang: Deputy) -> None:
    Deputy.objects.filter(pk=wang.pk).update(is_active=False)
    client = Client()
    assert client.get(f"/deputies/{wang.pk}/").status_code == 404
    assert client.get("/deputies/999999/").status_code == 404
    assert client.get("/stations/999999/").status_code == 404
    assert client.get("/deputies/nosuchcode/").status_code == 404


def test_code_svg_and_conditional_get(wang: Deputy) -> None:
    code = code_issue(deputy=wang)
    client = Client()
    svg = client.get(f"/codes/{code.slug}.svg")
    assert svg.status_code == 200
    assert svg["Content-Type"].startswith("image/svg+xml")
    png = client.get(f"/codes/{code.slug}.png")
    again = client.get(f"/codes/{code.slug}.png", HTTP_IF_NONE_MATCH=png["ETag"])
    assert again.status_code == 304


def test_deputy_photo_is_served_publicly(wang: Deputy) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from civicloop.core.attachments.services import attachment_create

    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), (200, 120, 80)).save(buffer, "JPEG")
    photo = attachment_create(
        upload=SimpleUploadedFile("wang.jpg", buffer.getvalue(), content_type="image/jpeg"),
        uploaded_by=None,
    )
    Deputy.objects.filter(pk=wang.pk).update(photo=photo)
    client = Client()
    html = client.get(f"/deputies/{wang.pk}/").content.decode()
    assert f'src="/deputies/{wang.pk}/photo/"' in html
    response = client.get(f"/deputies/{wang.pk}/photo/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/")


def test_pages_in_english(wang: Deputy) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    html = unescape(client.get(f"/deputies/{wang.pk}/").content.decode())
    assert 'lang="en"' in html
    assert "Write to the deputy" in html
    assert "Deputy of the Wenling People's Congress" in html
    assert "Reception days" in html
    html = client.get(f"/stations/{wang.station_id}/").content.decode()
    assert "Contact the station" in html and "Opening hours" in html
    html = client.get("/deputies/").content.decode()
    assert "Find a deputy" in html


def test_hot_pages_have_bounded_queries(wang: Deputy, django_assert_max_num_queries) -> None:
    client = Client()
    client.get("/deputies/")
    with django_assert_max_num_queries(8):
        client.get("/deputies/")
    with django_assert_max_num_queries(8):
        client.get(f"/deputies/{wang.pk}/")
    with django_assert_max_num_queries(8):
        client.get(f"/stations/{wang.station_id}/")
    with django_assert_max_num_queries(8):
        client.get("/stations/")
