"""Printable A4 posters of a QR code (300 dpi PNG, and the same as a PDF), for any
module's codes: a deputy's, a station's (民意), a studio's (政协委员工作室) …

Drawn with Pillow and the Noto Sans SC subset shipped in civicloop/core/fonts (SIL OFL),
so the product renders Chinese without any system font. The text is Chinese on purpose: the
poster hangs on a notice board in Wenling whatever language the downloader reads. A module
describes its poster (`Poster`); this draws it, and caches it while the text and URL stay
the same.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache

import segno
from django.core.cache import cache
from PIL import Image, ImageDraw, ImageFont

from civicloop.core.fonts import CJK_FONT

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
FOOTER = "温岭数字治理平台 · 全过程人民民主基层单元"


@dataclass(frozen=True)
class Poster:
    """What a poster says: the body above (header), what kind of code (kind_label), whose
    (name, subtitle), the URL the code holds, what to do (caption), where to come in
    person ((label, value) lines), and the code's own number for the records."""

    header: str
    kind_label: str
    name: str
    subtitle: str
    url: str
    caption: str
    facts: tuple[tuple[str, str], ...]
    code_label: str
    footer: str = FOOTER


@lru_cache(maxsize=32)
def poster_font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(POSTER_FONT), size)


def qr_code(url: str) -> segno.QRCode:
    """`url`'s QR code, error correction M or better: "M" recovers ~15 % damage and segno
    raises it further when the data leaves room (boost_error), which helps a code that
    got wet or scratched on a notice board."""
    return segno.make_qr(url, error="m", boost_error=True)


def qr_png(url: str, *, scale: int = 8, border: int = QR_QUIET_MODULES) -> bytes:
    """`url`'s QR code as a black-on-white PNG; `scale` is one module in pixels, `border`
    the quiet zone in modules (ISO/IEC 18004 asks for 4)."""
    buffer = io.BytesIO()
    qr_code(url).save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


def qr_matrix(url: str) -> tuple[tuple[int, ...], ...]:
    """The module matrix of `url`'s QR code without quiet zone (1 = dark)."""
    return tuple(tuple(1 if v else 0 for v in row) for row in qr_code(url).matrix)


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


def _draw_qr(image: Image.Image, matrix: tuple[tuple[int, ...], ...], *, top: int) -> int:
    """Draw the code with crisp whole-pixel modules, centred; return its bottom edge."""
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


def poster_image(poster: Poster, matrix: tuple[tuple[int, ...], ...] | None = None) -> Image.Image:
    """The A4 poster as an RGB image at 300 dpi (`matrix`: the code's modules, when the
    module draws its own; by default the code of `poster.url`)."""
    kind_label, name, subtitle = poster.kind_label, poster.name, poster.subtitle
    width = A4_PX[0] - 2 * MARGIN
    image = Image.new("RGB", A4_PX, WHITE)
    draw = ImageDraw.Draw(image)

    # Header band.
    draw.rectangle((0, 0, A4_PX[0], 470), fill=BRAND)
    y = _centered(draw, 90, poster.header, poster_font(72), WHITE)
    _centered(draw, y + 10, kind_label, poster_font(150), WHITE, stroke=2)

    # Whose code it is.
    y = 560
    y = _centered(draw, y, name, _fit(name, max_width=width, size=200, min_size=96), INK, stroke=2)
    if subtitle:
        font = _fit(subtitle, max_width=width, size=76, min_size=48)
        y = _centered(draw, y + 10, subtitle, font, MUTED)

    # The code and what it is for.
    qr_bottom = _draw_qr(image, matrix or qr_matrix(poster.url), top=max(y + 90, 1080))
    caption = poster.caption
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
    for label, value in poster.facts:
        if value:
            lines += _wrap(f"{label}：{value}", font=body, max_width=width - 120)
    box_bottom = box_top + 60 + len(lines) * 92
    draw.rounded_rectangle((MARGIN, box_top, A4_PX[0] - MARGIN, box_bottom), radius=28, fill=PALE)
    for i, line in enumerate(lines):
        draw.text((MARGIN + 60, box_top + 40 + i * 92), line, font=body, fill=INK)

    # Footer: the platform and the code's own number, for the station's records.
    draw.rectangle((0, A4_PX[1] - 230, A4_PX[0], A4_PX[1]), fill=PALE)
    y = _centered(draw, A4_PX[1] - 200, poster.footer, poster_font(52), MUTED)
    _centered(draw, y, f"码号 {poster.code_label} · {poster.url}", poster_font(40), MUTED)
    return image


def _cache_key(poster: Poster, fmt: str) -> str:
    parts = (fmt, poster.header, poster.kind_label, poster.name, poster.subtitle, poster.url,
             poster.caption, repr(poster.facts), poster.code_label, poster.footer)  # fmt: skip
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
    return f"core:poster:{digest}"


def poster_png(poster: Poster, matrix: tuple[tuple[int, ...], ...] | None = None) -> bytes:
    """The poster as a 300 dpi PNG (cached while its text and URL stay the same)."""
    key = _cache_key(poster, "png")
    data: bytes | None = cache.get(key)
    if data is None:
        buffer = io.BytesIO()
        poster_image(poster, matrix).save(
            buffer, "PNG", dpi=(POSTER_DPI, POSTER_DPI), optimize=True
        )
        data = buffer.getvalue()
        cache.set(key, data, POSTER_CACHE_SECONDS)
    return data


def poster_pdf(
    poster: Poster, matrix: tuple[tuple[int, ...], ...] | None = None, *, title: str = ""
) -> bytes:
    """The poster as a one-page A4 PDF (the 300 dpi image, printed at its true size)."""
    key = _cache_key(poster, "pdf")
    data: bytes | None = cache.get(key)
    if data is None:
        buffer = io.BytesIO()
        poster_image(poster, matrix).save(
            buffer,
            "PDF",
            resolution=float(POSTER_DPI),
            quality=92,
            title=title or f"{poster.kind_label} {poster.code_label}",
            author="温岭数字治理平台",
        )
        data = buffer.getvalue()
        cache.set(key, data, POSTER_CACHE_SECONDS)
    return data
