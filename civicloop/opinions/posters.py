"""Printable A4 posters of the two codes (300 dpi PNG, and the same as a PDF).

Drawn with Pillow and the Noto Sans SC subset shipped in civicloop/core/fonts (SIL OFL),
so the product renders Chinese without any system font. The text is Chinese on purpose: the
poster hangs on a notice board in Wenling whatever language the downloader reads.
"""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache

from django.core.cache import cache
from PIL import Image, ImageDraw, ImageFont

from civicloop.core.fonts import CJK_FONT
from civicloop.opinions.codes import code_matrix, code_url
from civicloop.opinions.models import Code, CodeKind, Deputy, Station

POSTER_FONT = CJK_FONT
POSTER_DPI = 300
A4_PX = (2480, 3508)  # 210 x 297 mm at 300 dpi
MARGIN = 180
BRAND = (11, 74, 139)
INK = (26, 31, 41)
MUTED = (79, 88, 104)
PALE = (234, 241, 250)
WHITE = (255, 255, 255)
QR_TARGET_PX = 1440
QR_QUIET_MODULES = 4
POSTER_CACHE_SECONDS = 24 * 3600

DEPUTY_CAPTION = "扫码给人大代表留言 · 民意一键直达"
STATION_CAPTION = "扫码向联络站反映 · 民意一键直达"
HEADER = "温岭市人民代表大会常务委员会"
FOOTER = "温岭数字治理平台 · 全过程人民民主基层单元"


@lru_cache(maxsize=32)
def poster_font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(POSTER_FONT), size)


def _fit(text: str, *, max_width: int, size: int, min_size: int) -> ImageFont.FreeTypeFont:
    """The largest font (from `size` down to `min_size`) that fits `text` on one line."""
    while size > min_size and poster_font(size).getlength(text) > max_width:
        size -= 8
    return poster_font(size)


def _wrap(text: str, *, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Break Chinese text into lines by width (any character may end a line)."""
    lines: list[str] = []
    line = ""
    for char in text:
        if font.getlength(line + char) > max_width and line:
            lines.append(line)
            line = char.lstrip()
        else:
            line += char
    if line:
        lines.append(line)
    return lines


def _centered(draw: ImageDraw.ImageDraw, y: int, text: str, font: ImageFont.FreeTypeFont, fill: tuple[int, int, int], stroke: int = 0) -> int:  # fmt: skip
    width = draw.textlength(text, font=font)
    draw.text(
        ((A4_PX[0] - width) / 2, y),
        text,
        font=font,
        fill=fill,
        stroke_width=stroke,
        stroke_fill=fill,
    )
    return y + int(font.size * 1.35)


def _holder_lines(code: Code) -> tuple[str, str, str, Station]:
    """(kind label, name, subtitle, station) of what the code belongs to."""
    if code.kind == CodeKind.DEPUTY:
        deputy: Deputy | None = code.deputy
        assert deputy is not None
        subtitle = " · ".join(p for p in (deputy.get_level_display(), deputy.constituency) if p)
        return "代表码", deputy.name, subtitle, deputy.station
    assert code.station is not None
    station = code.station
    subtitle = f"特色：{station.speciality}" if station.speciality else ""
    return "联络站码", station.name, subtitle, station


def _draw_qr(image: Image.Image, code: Code, *, top: int) -> int:
    """Draw the code with crisp whole-pixel modules, centred; return its bottom edge."""
    matrix = code_matrix(code)
    modules = len(matrix) + 2 * QR_QUIET_MODULES
    module_px = QR_TARGET_PX // modules
    size = modules * module_px
    left = (A4_PX[0] - size) // 2
    draw = ImageDraw.Draw(image)
    draw.rectangle((left, top, left + size - 1, top + size - 1), fill=WHITE)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                x = left + (c + QR_QUIET_MODULES) * module_px
                y = top + (r + QR_QUIET_MODULES) * module_px
                draw.rectangle((x, y, x + module_px - 1, y + module_px - 1), fill=(0, 0, 0))
    frame = 6
    draw.rounded_rectangle(
        (left - 40, top - 40, left + size + 39, top + size + 39),
        radius=36,
        outline=BRAND,
        width=frame,
    )
    return top + size + 40


def poster_image(code: Code) -> Image.Image:
    """The A4 poster of a code as an RGB image at 300 dpi."""
    kind_label, name, subtitle, station = _holder_lines(code)
    width = A4_PX[0] - 2 * MARGIN
    image = Image.new("RGB", A4_PX, WHITE)
    draw = ImageDraw.Draw(image)

    # Header band.
    draw.rectangle((0, 0, A4_PX[0], 470), fill=BRAND)
    y = _centered(draw, 90, HEADER, poster_font(72), WHITE)
    _centered(draw, y + 10, kind_label, poster_font(150), WHITE, stroke=2)

    # Whose code it is.
    y = 560
    y = _centered(draw, y, name, _fit(name, max_width=width, size=200, min_size=96), INK, stroke=2)
    if subtitle:
        font = _fit(subtitle, max_width=width, size=76, min_size=48)
        y = _centered(draw, y + 10, subtitle, font, MUTED)

    # The code and what it is for.
    qr_bottom = _draw_qr(image, code, top=max(y + 90, 1080))
    caption = DEPUTY_CAPTION if code.kind == CodeKind.DEPUTY else STATION_CAPTION
    y = _centered(
        draw,
        qr_bottom + 70,
        caption,
        _fit(caption, max_width=width, size=112, min_size=64),
        BRAND,
        stroke=1,
    )

    # Where to come in person.
    box_top = y + 50
    body = poster_font(62)
    lines: list[str] = []
    for label, value in (
        ("联络站", station.name),
        ("地址", station.address),
        ("开放时间", station.opening_hours),
    ):
        if value:
            lines += _wrap(f"{label}：{value}", font=body, max_width=width - 120)
    box_bottom = box_top + 60 + len(lines) * 92
    draw.rounded_rectangle((MARGIN, box_top, A4_PX[0] - MARGIN, box_bottom), radius=28, fill=PALE)
    for i, line in enumerate(lines):
        draw.text((MARGIN + 60, box_top + 40 + i * 92), line, font=body, fill=INK)

    # Footer: the platform and the code's own number, for the station's records.
    draw.rectangle((0, A4_PX[1] - 230, A4_PX[0], A4_PX[1]), fill=PALE)
    y = _centered(draw, A4_PX[1] - 200, FOOTER, poster_font(52), MUTED)
    _centered(draw, y, f"码号 {code.slug} · {code_url(code)}", poster_font(40), MUTED)
    return image


def _cache_key(code: Code, fmt: str) -> str:
    kind_label, name, subtitle, station = _holder_lines(code)
    parts = (
        fmt,
        code_url(code),
        kind_label,
        name,
        subtitle,
        station.name,
        station.address,
        station.opening_hours,
    )
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
    return f"opinions:poster:{digest}"


def poster_png(code: Code) -> bytes:
    """The poster as a 300 dpi PNG (cached while its text and URL stay the same)."""
    key = _cache_key(code, "png")
    data: bytes | None = cache.get(key)
    if data is None:
        buffer = io.BytesIO()
        poster_image(code).save(buffer, "PNG", dpi=(POSTER_DPI, POSTER_DPI), optimize=True)
        data = buffer.getvalue()
        cache.set(key, data, POSTER_CACHE_SECONDS)
    return data


def poster_pdf(code: Code) -> bytes:
    """The poster as a one-page A4 PDF (the 300 dpi image, printed at its true size)."""
    key = _cache_key(code, "pdf")
    data: bytes | None = cache.get(key)
    if data is None:
        buffer = io.BytesIO()
        poster_image(code).save(
            buffer,
            "PDF",
            resolution=float(POSTER_DPI),
            quality=92,
            title=f"{code.get_kind_display()} {code.slug}",
            author="温岭数字治理平台",
        )
        data = buffer.getvalue()
        cache.set(key, data, POSTER_CACHE_SECONDS)
    return data
