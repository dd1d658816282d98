"""XLSX exports (openpyxl in write-only mode, so rows stream to the file and memory stays flat
however many votes or panel members there are)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from civicloop.budgeting.ballot_models import Ballot
from civicloop.budgeting.ballots import ballot_election, ballot_projects
from civicloop.budgeting.rules import RULE_LABELS, Rule, outcomes_compare


@dataclass
class Sheet:
    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]


def xlsx_write(*, sheets: Sequence[Sheet]) -> bytes:
    """A workbook with one sheet per ``Sheet``; the header row bold and frozen."""
    wb = Workbook(write_only=True)
    for sheet in sheets:
        ws = wb.create_sheet(title=sheet.title[:31])
        ws.freeze_panes = "A2"
        bold = Font(bold=True)
        header = []
        for text in sheet.header:
            cell = WriteOnlyCell(ws, value=str(text))
            cell.font = bold
            header.append(cell)
        ws.append(header)
        for row in sheet.rows:
            ws.append([_cell_value(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _cell_value(value: Any) -> Any:
    # A text starting with "=" would be read as a formula by Excel (CSV/formula injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def results_xlsx(*, ballot: Ballot) -> bytes:
    """The vote's results: projects with support per rule, and every vote (anonymous)."""
    election, projects = ballot_election(ballot)
    comparison = outcomes_compare(election=election, projects=projects)
    rules = [r.value for r in Rule]
    results = Sheet(
        title=_("计票结果"),
        header=[_("项目编号"), _("项目"), _("造价（元）"), _("支持人数"), _("总分")]
        + [str(RULE_LABELS[Rule(r)]) for r in rules]
        + [_("差异原因")],
        rows=(
            [row.project.id, row.project.name, row.project.cost, row.supporters, row.score]
            + [_("入选") if row.funded_by[r] else "" for r in rules]
            + [row.reason]
            for row in comparison.projects
        ),
    )
    totals = Sheet(
        title=_("各规则合计"),
        header=[_("规则"), _("入选项目数"), _("合计（元）")],
        rows=(
            [str(RULE_LABELS[Rule(r)]), len(comparison.outcomes[r]), comparison.total_cost[r]]
            for r in rules
        ),
    )
    ids = [p.id for p in ballot_projects(ballot)]
    votes = Sheet(
        title=_("选票"),
        header=[_("选票"), _("类别"), _("年龄"), _("性别"), *ids],
        rows=(
            [v.pk, v.get_voter_kind_display(), v.age, v.sex]
            + [v.choices.get(pid, "") for pid in ids]
            for v in ballot.votes.order_by("pk").iterator()
        ),
    )
    return xlsx_write(sheets=[results, totals, votes])
