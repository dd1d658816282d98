"""The payment receipt (缴款凭证) of a paid fire-lane decision, as a one-page PDF.

The page is drawn with Pillow and core's CJK font (so it looks the same everywhere, with
no system font), and carries the same lines as an invisible text layer, the way scanned
PDFs are made searchable: readers can select, search and extract the text. The text layer
names Adobe's standard Chinese font STSong-Light (UniGB-UCS2-H, never embedded: nothing is
drawn with it) and maps its codes back to Unicode with a ToUnicode CMap.

No PDF library is a dependency: the file is a handful of objects written here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from civicloop.core.fonts import CJK_FONT

# A4 at 150 dpi, and in PDF points.
PAGE_PX = (1240, 1754)
PAGE_PT = (595.28, 841.89)
MARGIN_PX = 110


@dataclass(frozen=True)
class ReceiptText:
    """What a receipt says: a title, `label: value` lines, the issuer and its seal."""

    title: str
    number: str
    lines: tuple[tuple[str, str], ...]
    authority: str
    seal: str
    footer: str


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(CJK_FONT), size)


def _wrap(text: str, *, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines, line = [], ""
    for char in text:
        if line and font.getlength(line + char) > width:
            lines.append(line)
            line = ""
        line += char
    return [*lines, line] if line else lines


def _page_image(receipt: ReceiptText) -> Image.Image:
    image = Image.new("RGB", PAGE_PX, "white")
    draw = ImageDraw.Draw(image)
    width = PAGE_PX[0] - 2 * MARGIN_PX
    title = _font(60)
    draw.text((PAGE_PX[0] // 2, 150), receipt.title, font=title, fill="black", anchor="mt")
    draw.text(
        (PAGE_PX[0] // 2, 250), receipt.number, font=_font(30), fill=(60, 60, 60), anchor="mt"
    )
    y = 340
    draw.line((MARGIN_PX, y, PAGE_PX[0] - MARGIN_PX, y), fill="black", width=3)
    y += 40
    body = _font(34)
    for label, value in receipt.lines:
        draw.text((MARGIN_PX, y), f"{label}：", font=body, fill=(60, 60, 60))
        left = MARGIN_PX + 300
        for part in _wrap(value, font=body, width=width - 300):
            draw.text((left, y), part, font=body, fill="black")
            y += 56
        y += 14
    draw.line((MARGIN_PX, y, PAGE_PX[0] - MARGIN_PX, y), fill="black", width=2)
    y += 50
    for part in _wrap(receipt.footer, font=_font(26), width=width):
        draw.text((MARGIN_PX, y), part, font=_font(26), fill=(60, 60, 60))
        y += 40
    # The issuer, with its seal text in a red ring beside it.
    y = max(y + 80, 1300)
    right = PAGE_PX[0] - MARGIN_PX
    draw.text((right, y), receipt.authority, font=body, fill="black", anchor="ra")
    ring = (right - 420, y - 120, right - 60, y + 170)
    draw.ellipse(ring, outline=(200, 30, 30), width=6)
    seal_font = _font(28)
    seal_lines = _wrap(receipt.seal, font=seal_font, width=300)
    seal_y = (ring[1] + ring[3]) // 2 - 20 * len(seal_lines)
    for part in seal_lines:
        draw.text(
            ((ring[0] + ring[2]) // 2, seal_y),
            part,
            font=seal_font,
            fill=(200, 30, 30),
            anchor="mt",
        )
        seal_y += 40
    return image


def _hex_ucs2(text: str) -> str:
    # The text layer's encoding is UCS-2: characters beyond the BMP cannot be written.
    return "".join(
        f"{ord(c):04X}" for c in text if ord(c) <= 0xFFFF and not 0xD800 <= ord(c) <= 0xDFFF
    )


def _to_unicode_cmap() -> bytes:
    ranges = [f"<{hi:02X}00> <{hi:02X}FF> <{hi:02X}00>" for hi in range(256)]
    blocks = []
    for start in range(0, len(ranges), 100):
        chunk = ranges[start : start + 100]
        blocks.append(f"{len(chunk)} beginbfrange\n" + "\n".join(chunk) + "\nendbfrange")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")


def _text_layer(receipt: ReceiptText) -> list[str]:
    rows = [receipt.title, receipt.number]
    rows += [f"{label}：{value}" for label, value in receipt.lines]
    rows += [receipt.footer, receipt.authority, receipt.seal]
    return rows


def _stream(header: str, data: bytes) -> bytes:
    return f"<< {header} /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream"


def receipt_pdf(receipt: ReceiptText) -> bytes:
    """The receipt as a one-page A4 PDF: the drawn page, and its text selectable."""
    buf = io.BytesIO()
    _page_image(receipt).save(buf, "JPEG", quality=85)
    jpeg = buf.getvalue()
    width_pt, height_pt = PAGE_PT
    text_ops = ["BT", "3 Tr", "/F0 12 Tf"]
    for index, row in enumerate(_text_layer(receipt)):
        y = height_pt - 80 - index * 24
        text_ops.append(f"1 0 0 1 60 {y:.2f} Tm <{_hex_ucs2(row)}> Tj")
    text_ops.append("ET")
    content = (f"q {width_pt} 0 0 {height_pt} 0 0 cm /Im0 Do Q\n" + "\n".join(text_ops)).encode(
        "ascii"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width_pt} {height_pt}] "
            "/Resources << /XObject << /Im0 4 0 R >> /Font << /F0 5 0 R >> >> "
            "/Contents 8 0 R >>"
        ).encode(),
        _stream(
            f"/Type /XObject /Subtype /Image /Width {PAGE_PX[0]} /Height {PAGE_PX[1]} "
            "/ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode",
            jpeg,
        ),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
        b"/FontDescriptor 9 0 R >>",
        _stream("", _to_unicode_cmap()),
        _stream("", content),
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
        b"/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
        b"/CapHeight 880 /StemV 93 >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()
