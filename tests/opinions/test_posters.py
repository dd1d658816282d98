"""A4 posters: real CJK glyphs from the shipped font, and a QR code that decodes."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from django.test import Client
from PIL import Image, ImageChops, ImageDraw

from civicloop.opinions.codes import code_issue, code_revoke, code_url
from civicloop.opinions.models import Deputy, Station
from civicloop.opinions.posters import A4_PX, POSTER_FONT, poster_font, poster_image

pytestmark = pytest.mark.django_db


def _render(text: str) -> Image.Image:
    image = Image.new("L", (400, 200), 255)
    ImageDraw.Draw(image).text((10, 10), text, font=poster_font(120), fill=0)
    return image


def _ink(image: Image.Image) -> int:
    return sum(image.convert("L").histogram()[:128])


def test_the_font_ships_with_the_product_and_is_small() -> None:
    assert POSTER_FONT.exists()
    assert "civicloop/core/fonts" in str(POSTER_FONT)
    assert POSTER_FONT.stat().st_size < 5 * 1024 * 1024
    assert (POSTER_FONT.parent / "OFL.txt").exists()


@pytest.mark.parametrize("text", ["温岭", "扫码", "箬横", "坞根", "鳌", "，。"])
def test_chinese_renders_with_real_glyphs_not_tofu(text: str) -> None:
    # U+E000 (private use) is not in the font: it draws the .notdef box ("tofu").
    tofu = _render("\ue000" * len(text))
    glyphs = _render(text)
    assert _ink(glyphs) > 500
    assert ImageChops.difference(glyphs, tofu).getbbox() is not None
    # Two different characters must not draw the same box either.
    assert ImageChops.difference(_render(text[0]), _render("\ue000")).getbbox() is not None


def test_every_demo_name_and_address_is_covered_by_the_font(demo_city: None) -> None:
    font = poster_font(40)
    tofu = font.getmask("\ue000").getbbox()
    texts = list(Deputy.objects.values_list("name", flat=True))
    texts += list(Station.objects.values_list("address", flat=True))
    for text in texts:
        for char in text:
            mask = font.getmask(char)
            # A missing glyph draws exactly the .notdef box.
            assert not (mask.getbbox() == tofu and bytes(mask) == bytes(font.getmask("\ue000"))), (
                f"{char!r} in {text!r} is missing from the poster font"
            )


def _decode(image: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image)]


def test_deputy_poster_is_a4_at_300dpi_with_a_decodable_code(settings, demo_city: None) -> None:
    settings.SITE_URL = "https://my.wenling.example.cn"
    wang = Deputy.objects.get(user__username="deputy_wang")
    code = code_issue(deputy=wang)
    response = Client().get(f"/codes/{code.slug}/poster.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == A4_PX
    assert round(image.info["dpi"][0]) == 300
    assert _decode(image) == [code_url(code)]
    assert _decode(image)[0].startswith("https://my.wenling.example.cn/q/")


def test_poster_shows_the_name_caption_and_address_as_ink(demo_city: None) -> None:
    wang = Deputy.objects.select_related("station").get(user__username="deputy_wang")
    code = code_issue(deputy=wang)
    image = poster_image(code).convert("L")
    width = image.size[0]
    # The name band (below the blue header) has dark ink; the address box too.
    name_band = image.crop((0, 560, width, 800))
    assert _ink(name_band) > 5000
    address_band = image.crop((0, 2900, width, 3200))
    assert _ink(address_band) > 5000


def test_station_poster_pdf_is_one_a4_page(demo_city: None) -> None:
    station = Station.objects.get(unit__code="station-331081100")
    code = code_issue(station=station)
    response = Client().get(f"/codes/{code.slug}/poster.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    pdf = response.content
    assert pdf.startswith(b"%PDF-")
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + pdf.count(b"/Type/Page") >= 1
    # 2480 x 3508 px at 300 dpi = 595.2 x 841.9 pt (A4).
    assert b"595.2" in pdf and b"841.9" in pdf
    assert len(pdf) < 3 * 1024 * 1024
    image = poster_image(code)
    assert _decode(image) == [code_url(code)]


def test_revoked_code_has_no_poster(demo_city: None) -> None:
    wang = Deputy.objects.get(user__username="deputy_wang")
    code = code_issue(deputy=wang)
    code_revoke(code=code, reason="换届")
    assert Client().get(f"/codes/{code.slug}/poster.pdf").status_code == 410
