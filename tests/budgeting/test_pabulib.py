"""The .pb writer read back by pabutools' own parser (civicloop/budgeting/pabulib.py)."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from civicloop.budgeting.pabulib import pabulib_read, pabulib_write
from civicloop.budgeting.rules import (
    BallotData,
    BallotKind,
    BallotRules,
    ProjectData,
    Rule,
    election_build,
    outcome_compute,
)

PROJECTS = [
    ProjectData(
        id=f"P{i:02d}",
        cost=50_000 * (i % 7 + 1),
        name=f"项目{i}；含分号",
        category="道路" if i % 2 else "教育",
    )
    for i in range(1, 13)
]
BUDGET = 900_000
META = {
    "description": "泽国镇 2026 参与式预算",
    "unit": "泽国镇",
    "instance": "2026",
    "country": "China",
}


def _ballots(kind: BallotKind, seed: int = 5) -> list[BallotData]:
    rng = random.Random(seed)
    out = []
    for i in range(60):
        picked = rng.sample([p.id for p in PROJECTS], rng.randint(1, 4))
        if kind in (BallotKind.APPROVAL, BallotKind.CHOOSE_K):
            choices = dict.fromkeys(picked, 1)
        elif kind == BallotKind.SCORING:
            choices = {pid: rng.randint(1, 10) for pid in picked}
        else:
            choices = {pid: 10 // len(picked) for pid in picked}
        age = rng.randint(18, 80) if i % 3 else None
        out.append(
            BallotData(voter_id=f"v{i:03d}", choices=choices, age=age, sex=rng.choice(["M", "F"]))
        )
    return out


RULES = {
    BallotKind.APPROVAL: BallotRules(BallotKind.APPROVAL),
    BallotKind.CHOOSE_K: BallotRules(BallotKind.CHOOSE_K, k=4),
    BallotKind.SCORING: BallotRules(BallotKind.SCORING),
    BallotKind.CUMULATIVE: BallotRules(BallotKind.CUMULATIVE, total_points=10),
}


@pytest.mark.parametrize("kind", list(BallotKind))
def test_pb_round_trip_gives_the_same_instance(kind: BallotKind) -> None:
    # Given an election of this kind
    ballots = _ballots(kind)
    election = election_build(
        projects=PROJECTS, ballots=ballots, budget=BUDGET, rules=RULES[kind], meta=META
    )
    # When it is written as .pb and read back with pabutools' parser
    text = pabulib_write(
        projects=PROJECTS, ballots=ballots, budget=BUDGET, rules=RULES[kind], meta=META
    )
    instance, profile = pabulib_read(text)
    # Then the projects, costs, budget, ballots and voters' age/sex are the same
    assert instance.budget_limit == Fraction(BUDGET)
    assert {(p.name, p.cost) for p in instance} == {(p.name, p.cost) for p in election.instance}
    assert {p.name: p.categories for p in instance} == {p.id: {p.category} for p in PROJECTS}
    names = {p: instance.project_meta[p]["name"] for p in instance}
    assert sorted(names.values()) == sorted(p.name for p in PROJECTS)
    assert len(profile) == len(ballots)
    read = {b.meta["voter_id"]: b for b in profile}
    for original in ballots:
        ballot = read[original.voter_id]
        if kind in (BallotKind.APPROVAL, BallotKind.CHOOSE_K):
            assert {p.name for p in ballot} == set(original.choices)
        else:
            assert {p.name: ballot[p] for p in ballot} == {
                k: Fraction(v) for k, v in original.choices.items()
            }
        assert ballot.meta.get("sex") == original.sex
        assert ballot.meta.get("age") == (str(original.age) if original.age is not None else None)
    assert instance.meta["vote_type"] == {"choose_k": "approval"}.get(kind.value, kind.value)
    if kind == BallotKind.CHOOSE_K:
        assert profile.legal_max_length == 4
    if kind == BallotKind.SCORING:
        assert profile.legal_max_score == 10


@pytest.mark.parametrize("kind", list(BallotKind))
def test_outcomes_are_the_same_on_the_parsed_file(kind: BallotKind) -> None:
    ballots = _ballots(kind, seed=9)
    election = election_build(
        projects=PROJECTS, ballots=ballots, budget=BUDGET, rules=RULES[kind], meta=META
    )
    text = pabulib_write(
        projects=PROJECTS, ballots=ballots, budget=BUDGET, rules=RULES[kind], meta=META
    )
    instance, profile = pabulib_read(text)
    parsed = election_build(
        projects=[ProjectData(id=p.name, cost=int(p.cost)) for p in instance],
        ballots=[
            BallotData(
                voter_id=b.meta["voter_id"],
                choices={p.name: int(b[p]) if hasattr(b, "items") else 1 for p in b},
            )
            for b in profile
        ],
        budget=int(instance.budget_limit),
        rules=RULES[kind],
    )
    for rule in Rule:
        assert sorted(outcome_compute(election=election, rule=rule)) == sorted(
            outcome_compute(election=parsed, rule=rule)
        )


def test_meta_section_has_the_required_keys() -> None:
    text = pabulib_write(
        projects=PROJECTS,
        ballots=_ballots(BallotKind.APPROVAL),
        budget=BUDGET,
        rules=RULES[BallotKind.APPROVAL],
        meta=META,
    )
    assert text.startswith("META\nkey;value\n")
    assert "\nPROJECTS\nproject_id;cost;name;category\n" in text
    assert "\nVOTES\nvoter_id;age;sex;vote\n" in text
    instance, _profile = pabulib_read(text)
    for key in (
        "description",
        "country",
        "unit",
        "instance",
        "num_projects",
        "num_votes",
        "budget",
        "vote_type",
    ):
        assert key in instance.meta
    assert instance.meta["num_votes"] == "60"
