"""The data of the printable process report (report.py draws it): plain sections read
from the selectors, so the PDF layout never touches the database."""

from __future__ import annotations

from django.utils.translation import gettext as _

from civicloop.budgeting import selectors
from civicloop.budgeting.ballots import process_ballot
from civicloop.budgeting.models import BudgetProcess
from civicloop.budgeting.report import ReportData, ReportSection


def _pct(share: float) -> str:
    return f"{share:.1%}"


def _p(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def process_report_data(*, process: BudgetProcess) -> ReportData:
    """Every part of the process a reader of the report needs: phases, panel and its
    representativeness, the T1/T2 analysis, the vote's outcomes, the congress drafts."""
    sections = [
        ReportSection(
            title=_("流程"),
            header=[_("阶段"), _("开始"), _("结束")],
            rows=[
                [
                    str(row["label"]) + (" ←" if row["current"] else ""),
                    row["starts_on"].isoformat() if row["starts_on"] else "",
                    row["ends_on"].isoformat() if row["ends_on"] else "",
                ]
                for row in selectors.phase_rows(process)
            ],
        )
    ]
    draw = selectors.draw_current(process)
    if draw is not None:
        counts = selectors.panel_counts(draw)
        sections.append(
            ReportSection(
                title=_("随机抽样与代表性"),
                lines=[
                    _(
                        "抽样框 %(n)d 人，随机种子 %(seed)d；抽中 %(drawn)d 人，候补 %(reserve)d 人，出席 %(came)d 人。"
                    )
                    % {
                        "n": draw.frame_size,
                        "seed": draw.seed,
                        "drawn": counts["drawn"],
                        "reserve": counts["reserve"],
                        "came": counts["attended"],
                    }
                ],
                header=[_("分层"), _("总体"), _("抽中"), _("出席")],
                rows=[
                    [
                        f"{r.feature}={r.value}",
                        _pct(r.population_share),
                        _pct(r.drawn_share),
                        _pct(r.attended_share),
                    ]
                    for r in selectors.representativeness(draw)
                ],
            )
        )
    analysis = selectors.poll_analysis(process)
    if analysis.respondents_t2:
        k = analysis.knowledge
        sections.append(
            ReportSection(
                title=_("恳谈前后问卷"),
                lines=[
                    _("知识测验平均分 %(a)s → %(b)s（配对 t 检验 p=%(p)s）。")
                    % {
                        "a": f"{k.mean_before or 0:.2f}",
                        "b": f"{k.mean_after or 0:.2f}",
                        "p": _p(k.t_pvalue),
                    }
                ],
                header=[_("排名"), _("项目"), _("T2 平均分"), _("造价（元）"), _("安排")],
                rows=[
                    [
                        str(r.rank),
                        r.title,
                        f"{r.mean_t2:.2f}" if r.mean_t2 is not None else "—",
                        f"{r.cost:,}",
                        _("安排") if r.funded else "",
                    ]
                    for r in analysis.ranking
                ],
            )
        )
    ballot = process_ballot(process)
    if ballot is not None:
        titles = dict(process.projects.values_list("pk", "title"))
        sections.append(
            ReportSection(
                title=_("票选结果"),
                lines=[
                    _("%(rule)s：%(n)d 个项目，合计 %(cost)s 元。")
                    % {"rule": o.rule, "n": len(o.project_ids), "cost": f"{o.total_cost:,}"}
                    + "、".join(titles.get(pid, "") for pid in o.project_ids)
                    for o in ballot.outcomes.order_by("rule")
                ],
            )
        )
    latest = process.drafts.order_by("-version").first()
    if latest is not None:
        sections.append(
            ReportSection(
                title=_("人代会审议"),
                header=[_("科目"), _("金额（元）")],
                rows=[
                    [f"{line.code} {line.title}", f"{line.amount:,}"] for line in latest.lines.all()
                ],
            )
        )
    return ReportData(
        title=process.title,
        subtitle=_("%(town)s · %(year)d 年 · 预算总额 %(budget)s 元")
        % {"town": process.town.name, "year": process.year, "budget": f"{process.total_budget:,}"},
        sections=sections,
    )
