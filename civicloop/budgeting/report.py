"""The printable report of a whole budget process (PDF, fpdf2, core's CJK font).

``report_pdf`` draws from ``ReportData``, plain data the selectors gather, so the layout is
tested without a database. Every string drawn is checked against the subset font's character
map first (``missing_glyphs``): core ships only GB 2312, and a rare character in a village or
person's name would otherwise print as an empty box without anyone noticing; such characters
are replaced by "□" and listed at the end of the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

from django.utils.translation import gettext as _
from fpdf import FPDF, FontFace

from civicloop.core.fonts import CJK_FONT


@dataclass
class ReportSection:
    title: str
    lines: list[str] = field(default_factory=list)  # paragraphs
    header: list[str] = field(default_factory=list)  # table header, if any
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class ReportData:
    title: str
    subtitle: str
    sections: list[ReportSection]


@cache
def _cmap() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(str(CJK_FONT)).getBestCmap())


def missing_glyphs(texts: Iterable[str]) -> set[str]:
    """The characters of ``texts`` the CJK subset font cannot draw."""
    cmap = _cmap()
    return {c for text in texts for c in text if c not in "\n\t" and ord(c) not in cmap}


def _texts(data: ReportData) -> list[str]:
    out = [data.title, data.subtitle]
    for s in data.sections:
        out += [s.title, *s.lines, *s.header, *(c for row in s.rows for c in row)]
    return out


def report_pdf(*, data: ReportData) -> bytes:
    """The PDF bytes of the report; characters the font lacks are drawn as □ and listed."""
    missing = missing_glyphs(_texts(data))

    def clean(text: str) -> str:
        return "".join("□" if c in missing else c for c in text) if missing else text

    pdf = FPDF(format="A4")
    pdf.set_title(clean(data.title))
    pdf.add_font("cjk", fname=str(CJK_FONT))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("cjk", size=18)
    pdf.multi_cell(0, 10, clean(data.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=11)
    pdf.multi_cell(0, 7, clean(data.subtitle), new_x="LMARGIN", new_y="NEXT")
    for section in data.sections:
        pdf.ln(4)
        pdf.set_font("cjk", size=14)
        pdf.multi_cell(0, 9, clean(section.title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=10)
        for line in section.lines:
            pdf.multi_cell(0, 6, clean(line), new_x="LMARGIN", new_y="NEXT")
        if section.header:
            _table(
                pdf,
                [clean(h) for h in section.header],
                [[clean(c) for c in row] for row in section.rows],
            )
    if missing:
        pdf.ln(4)
        pdf.set_font("cjk", size=9)
        pdf.multi_cell(
            0,
            5,
            _("注：字体缺少以下字符，以 □ 代替：%(chars)s")
            % {"chars": " ".join(f"U+{ord(c):04X}" for c in sorted(missing))},
            new_x="LMARGIN",
            new_y="NEXT",
        )
    return bytes(pdf.output())


def _table(pdf: FPDF, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    with pdf.table(
        headings_style=FontFace(emphasis=None, fill_color=(235, 235, 235)),
        line_height=6,
        text_align="LEFT",
        first_row_as_headings=True,
    ) as table:
        table.row(list(header))
        for row in rows:
            table.row(list(row))
