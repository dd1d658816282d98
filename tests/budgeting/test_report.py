"""The printable PDF report (civicloop/budgeting/report.py)."""

from __future__ import annotations

import io

from civicloop.budgeting.report import ReportData, ReportSection, missing_glyphs, report_pdf


def _data(extra: str = "") -> ReportData:
    return ReportData(
        title="泽国镇 2026 年参与式预算报告",
        subtitle="抽样种子 20260401；抽选 275 人，候补 30 人" + extra,
        sections=[
            ReportSection(
                title="代表性",
                header=["分层", "总体", "抽中", "出席"],
                rows=[["女 18-39", "21.0%", "20.7%", "20.1%"]] * 40,
            ),
            ReportSection(
                title="票选结果", lines=["平等份额法（含补足）选中 12 个项目，合计 6,960,000 元。"]
            ),
        ],
    )


def test_report_is_a_pdf_with_every_section() -> None:
    # Given a report with a long table (page breaks) and when it is drawn
    pdf = report_pdf(data=_data())
    # Then it is a PDF of more than one page, with the CJK font embedded
    assert pdf.startswith(b"%PDF-")
    assert (
        pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + pdf.count(b"/Type /Page/") >= 1
    )
    assert b"NotoSans" in pdf
    assert len(pdf) > 5_000


def test_characters_missing_from_the_subset_font_are_named() -> None:
    # 𠀀 (U+20000) is outside GB 2312, so the subset cannot draw it
    assert missing_glyphs(["泽国镇", "𠀀"]) == {"𠀀"}
    pdf = report_pdf(data=_data(extra="（村民 𠀀）"))
    assert pdf.startswith(b"%PDF-")


def test_the_report_texts_of_the_module_are_covered_by_the_font() -> None:
    texts = [
        "参与式预算",
        "恳谈",
        "预算修正议案",
        "财经小组",
        "赞成",
        "反对",
        "弃权",
        "平等份额法",
        "序贯 Phragmén 法",
        "贪心功利规则",
    ]
    assert missing_glyphs(texts) == set()
    assert io.BytesIO(report_pdf(data=_data())).read(5) == b"%PDF-"
