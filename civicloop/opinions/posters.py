"""Printable A4 posters of the two codes (民意): a deputy's and a station's, drawn by
core's posters (300 dpi PNG and PDF) from what the code belongs to."""

from __future__ import annotations

from PIL import Image

from civicloop.core import posters
from civicloop.core.posters import A4_PX, POSTER_FONT, poster_font
from civicloop.opinions.codes import code_matrix, code_url
from civicloop.opinions.models import Code, CodeKind, Deputy

__all__ = ["A4_PX", "POSTER_FONT", "poster_font", "poster_image", "poster_pdf", "poster_png"]

DEPUTY_CAPTION = "扫码给人大代表留言 · 民意一键直达"
STATION_CAPTION = "扫码向联络站反映 · 民意一键直达"
HEADER = "温岭市人民代表大会常务委员会"


def code_poster(code: Code) -> posters.Poster:
    """What the poster of `code` says."""
    if code.kind == CodeKind.DEPUTY:
        deputy: Deputy | None = code.deputy
        assert deputy is not None
        subtitle = " · ".join(p for p in (deputy.get_level_display(), deputy.constituency) if p)
        kind_label, name, station, caption = "代表码", deputy.name, deputy.station, DEPUTY_CAPTION
    else:
        assert code.station is not None
        station = code.station
        subtitle = f"特色：{station.speciality}" if station.speciality else ""
        kind_label, name, caption = "联络站码", station.name, STATION_CAPTION
    return posters.Poster(
        header=HEADER,
        kind_label=kind_label,
        name=name,
        subtitle=subtitle,
        url=code_url(code),
        caption=caption,
        facts=(
            ("联络站", station.name),
            ("地址", station.address),
            ("开放时间", station.opening_hours),
        ),
        code_label=code.slug,
    )


def poster_image(code: Code) -> Image.Image:
    """The A4 poster of a code as an RGB image at 300 dpi."""
    return posters.poster_image(code_poster(code), code_matrix(code))


def poster_png(code: Code) -> bytes:
    return posters.poster_png(code_poster(code), code_matrix(code))


def poster_pdf(code: Code) -> bytes:
    return posters.poster_pdf(
        code_poster(code), code_matrix(code), title=f"{code.get_kind_display()} {code.slug}"
    )
