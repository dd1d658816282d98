"""The election as a pabulib ``.pb`` file (Faliszewski et al., "Participatory Budgeting: Data,
Tools and Analysis", arXiv:2305.11035): META, PROJECTS and VOTES sections, ``;``-separated.

Our own writer rather than ``pabutools.election.election_as_pabulib_string``: pabutools 1.2.3's
writer puts extra ballot keys into the project header and writes points as floats ("7.0"), and
does not quote fields, so a project name with ``;`` would break the file. We quote with the csv
module, which is what pabutools' parser (``csv.reader(delimiter=";")``) reads back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from pabutools.election import Instance
from pabutools.election.pabulib import parse_pabulib_from_string
from pabutools.election.profile import AbstractProfile

from civicloop.budgeting.rules import BallotData, BallotKind, BallotRules, ProjectData

PB_VOTE_TYPE = {
    BallotKind.APPROVAL: "approval",
    BallotKind.CHOOSE_K: "approval",
    BallotKind.SCORING: "scoring",
    BallotKind.CUMULATIVE: "cumulative",
}


def _clean(value: object) -> str:
    # One record per line: the parser reads lines before csv, so newlines inside a field break it.
    return " ".join(str(value).split())


def pabulib_write(
    *,
    projects: Sequence[ProjectData],
    ballots: Sequence[BallotData],
    budget: int,
    rules: BallotRules,
    meta: Mapping[str, str],
) -> str:
    """The ``.pb`` text of this election. ``meta`` should hold description, country, unit,
    instance and date fields; the required ones missing are filled with neutral values."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\n")
    head: dict[str, str] = {
        "description": "",
        "country": "China",
        "unit": "",
        "instance": "",
        **{k: _clean(v) for k, v in meta.items()},
        "num_projects": str(len(projects)),
        "num_votes": str(len(ballots)),
        "budget": str(budget),
        "vote_type": PB_VOTE_TYPE[rules.kind],
        "rule": meta.get("rule", "greedy"),
    }
    if rules.kind == BallotKind.CHOOSE_K and rules.k:
        head["max_length"] = str(rules.k)
    if rules.kind in (BallotKind.APPROVAL, BallotKind.CHOOSE_K) and rules.max_cost:
        head["max_sum_cost"] = str(rules.max_cost)
    if rules.kind == BallotKind.SCORING:
        head["min_points"] = "0"
        head["max_points"] = str(rules.max_points)
    if rules.kind == BallotKind.CUMULATIVE and rules.total_points:
        head["max_sum_points"] = str(rules.total_points)
    out.write("META\n")
    w.writerow(["key", "value"])
    for key, value in head.items():
        w.writerow([key, value or "None"])

    out.write("PROJECTS\n")
    has_category = any(p.category for p in projects)
    w.writerow(["project_id", "cost", "name"] + (["category"] if has_category else []))
    for p in projects:
        row = [p.id, str(p.cost), _clean(p.name) or "None"]
        if has_category:
            # pabulib separates categories by ",", so one category must not contain one.
            row.append(_clean(p.category).replace(",", "，") or "None")
        w.writerow(row)

    out.write("VOTES\n")
    has_age = any(b.age is not None for b in ballots)
    has_sex = any(b.sex for b in ballots)
    cardinal = rules.kind in (BallotKind.SCORING, BallotKind.CUMULATIVE)
    w.writerow(
        ["voter_id"]
        + (["age"] if has_age else [])
        + (["sex"] if has_sex else [])
        + ["vote"]
        + (["points"] if cardinal else [])
    )
    for b in ballots:
        picked = [(pid, v) for pid, v in b.choices.items() if v > 0]
        row = [b.voter_id]
        if has_age:
            row.append(str(b.age) if b.age is not None else "None")
        if has_sex:
            row.append(b.sex or "None")
        row.append(",".join(pid for pid, _v in picked))
        if cardinal:
            row.append(",".join(str(v) for _pid, v in picked))
        w.writerow(row)
    return out.getvalue()


def pabulib_read(text: str) -> tuple[Instance, AbstractProfile]:
    """Read a ``.pb`` text with pabutools' own parser."""
    return parse_pabulib_from_string(text)
