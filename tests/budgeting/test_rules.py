"""Outcome rules and ballot checks on plain data (civicloop/budgeting/rules.py)."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from pabutools.election import ApprovalBallot, ApprovalProfile, Cost_Sat, Instance, Project
from pabutools.rules import (
    completion_by_rule_combination,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
    sequential_phragmen,
)

from civicloop.budgeting.ballot_errors import BallotError, BallotErrorCode
from civicloop.budgeting.rules import (
    BallotData,
    BallotKind,
    BallotRules,
    ProjectData,
    Rule,
    ballot_check,
    election_build,
    outcome_compute,
    outcomes_compare,
)

PROJECTS = [
    ProjectData(id="P01", cost=600_000, name="镇中心道路拓宽"),
    ProjectData(id="P02", cost=300_000, name="污水管网"),
    ProjectData(id="P03", cost=200_000, name="中学操场"),
    ProjectData(id="P04", cost=200_000, name="桥梁加固"),
    ProjectData(id="P05", cost=100_000, name="村口公园"),
]
BUDGET = 800_000


def _polarised_approval() -> list[BallotData]:
    """Given 60 voters who like the big road and the sewer, and 40 who like the three small ones:
    greedy funds the majority's projects only; MES gives the minority its fair share."""
    ballots = [BallotData(voter_id=f"a{i}", choices={"P01": 1, "P02": 1}) for i in range(60)]
    ballots += [
        BallotData(voter_id=f"b{i}", choices={"P03": 1, "P04": 1, "P05": 1}) for i in range(40)
    ]
    return ballots


def _random_scores(seed: int, n: int = 80) -> list[BallotData]:
    rng = random.Random(seed)
    return [
        BallotData(
            voter_id=f"v{i}",
            choices={p.id: rng.randint(0, 10) for p in PROJECTS if rng.random() < 0.8},
        )
        for i in range(n)
    ]


def _pabutools_approval_instance(ballots: list[BallotData]) -> tuple[Instance, ApprovalProfile]:
    instance = Instance(budget_limit=BUDGET)
    by_id = {}
    for p in PROJECTS:
        by_id[p.id] = Project(p.id, p.cost)
        instance.add(by_id[p.id])
    profile = ApprovalProfile(
        [ApprovalBallot([by_id[i] for i in b.choices]) for b in ballots], instance=instance
    )
    return instance, profile


def test_greedy_funds_by_supporters_and_matches_pabutools() -> None:
    # Given the polarised approval vote
    ballots = _polarised_approval()
    election = election_build(
        projects=PROJECTS, ballots=ballots, budget=BUDGET, rules=BallotRules(BallotKind.APPROVAL)
    )
    # When greedy is computed
    ids = outcome_compute(election=election, rule="greedy")
    # Then the majority's projects win (600k + 200k? no: 600k+... only what fits in order of votes)
    instance, profile = _pabutools_approval_instance(ballots)
    direct = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    assert sorted(ids) == sorted(p.name for p in direct)
    assert {"P01"} <= set(ids)
    assert "P03" in ids or "P04" in ids  # 200k left after P01: the first minority project fits


def test_mes_gives_the_minority_its_share_and_matches_pabutools() -> None:
    ballots = _polarised_approval()
    election = election_build(
        projects=PROJECTS, ballots=ballots, budget=BUDGET, rules=BallotRules(BallotKind.APPROVAL)
    )
    ids = outcome_compute(election=election, rule=Rule.MES)
    instance, profile = _pabutools_approval_instance(ballots)
    increment = Fraction(BUDGET, len(ballots) * 20)  # 5 % of the equal share, as documented
    direct = completion_by_rule_combination(
        instance,
        profile,
        [method_of_equal_shares, greedy_utilitarian_welfare],
        [{"sat_class": Cost_Sat, "voter_budget_increment": increment}, {"sat_class": Cost_Sat}],
    )
    assert sorted(ids) == sorted(p.name for p in direct)
    # 40 % of the voters get about 40 % of the money: their 500k of small projects minus at most one
    minority_cost = sum(p.cost for p in PROJECTS if p.id in ids and p.id in {"P03", "P04", "P05"})
    assert minority_cost >= 300_000
    assert sum(p.cost for p in PROJECTS if p.id in ids) <= BUDGET


def test_phragmen_matches_pabutools_and_scores_map_to_approval_at_six() -> None:
    # Given scoring ballots
    ballots = _random_scores(seed=7)
    election = election_build(
        projects=PROJECTS, ballots=ballots, budget=BUDGET, rules=BallotRules(BallotKind.SCORING)
    )
    # When Phragmén is computed
    ids = outcome_compute(election=election, rule="phragmen")
    # Then it equals pabutools' Phragmén on the approval ballots "score >= 6"
    approvals = [
        BallotData(voter_id=b.voter_id, choices={p: 1 for p, v in b.choices.items() if v >= 6})
        for b in ballots
    ]
    instance, profile = _pabutools_approval_instance(approvals)
    assert sorted(ids) == sorted(p.name for p in sequential_phragmen(instance, profile))


def test_scoring_greedy_funds_down_the_total_score_list() -> None:
    ballots = _random_scores(seed=3)
    election = election_build(
        projects=PROJECTS, ballots=ballots, budget=BUDGET, rules=BallotRules(BallotKind.SCORING)
    )
    ids = outcome_compute(election=election, rule="greedy")
    # by hand: walk the projects by total score, fund what still fits
    totals = {p.id: sum(b.choices.get(p.id, 0) for b in ballots) for p in PROJECTS}
    left, expected = BUDGET, []
    for p in sorted(PROJECTS, key=lambda p: (-totals[p.id], p.id)):
        if p.cost <= left:
            expected.append(p.id)
            left -= p.cost
    assert sorted(ids) == sorted(expected)


@pytest.mark.parametrize("kind", [BallotKind.SCORING, BallotKind.CUMULATIVE])
def test_every_rule_stays_within_budget_for_cardinal_kinds(kind: BallotKind) -> None:
    election = election_build(
        projects=PROJECTS, ballots=_random_scores(seed=11), budget=BUDGET, rules=BallotRules(kind)
    )
    cost = {p.id: p.cost for p in PROJECTS}
    for rule in Rule:
        ids = outcome_compute(election=election, rule=rule)
        assert ids, rule
        assert sum(cost[i] for i in ids) <= BUDGET


def test_unknown_rule_is_refused_with_the_choices() -> None:
    election = election_build(
        projects=PROJECTS,
        ballots=_polarised_approval(),
        budget=BUDGET,
        rules=BallotRules(BallotKind.APPROVAL),
    )
    with pytest.raises(BallotError) as exc:
        outcome_compute(election=election, rule="borda")
    assert exc.value.code == BallotErrorCode.UNKNOWN_RULE
    assert "borda" in exc.value.message and "mes" in exc.value.message


def test_comparison_names_the_projects_that_differ_and_why() -> None:
    election = election_build(
        projects=PROJECTS,
        ballots=_polarised_approval(),
        budget=BUDGET,
        rules=BallotRules(BallotKind.APPROVAL),
    )
    comparison = outcomes_compare(election=election, projects=PROJECTS)
    assert set(comparison.outcomes) == {"greedy", "mes", "phragmen"}
    differing = {row.project.id: row for row in comparison.differing}
    assert differing, "the polarised vote must split the rules"
    road = next(r for r in comparison.projects if r.project.id == "P01")
    assert road.supporters == 60
    for row in differing.values():
        assert row.reason
    for rule, ids in comparison.outcomes.items():
        assert comparison.total_cost[rule] == sum(p.cost for p in PROJECTS if p.id in ids)


# --- ballot checks -------------------------------------------------------------------------


def test_choose_k_refuses_too_many_projects() -> None:
    with pytest.raises(BallotError) as exc:
        ballot_check(
            rules=BallotRules(BallotKind.CHOOSE_K, k=2),
            projects=PROJECTS,
            choices={"P01": 1, "P02": 1, "P03": 1},
        )
    assert exc.value.code == BallotErrorCode.RULES
    assert "3" in exc.value.message and "2" in exc.value.message
    ballot_check(
        rules=BallotRules(BallotKind.CHOOSE_K, k=2), projects=PROJECTS, choices={"P01": 1, "P02": 1}
    )


def test_scoring_refuses_points_over_ten() -> None:
    with pytest.raises(BallotError) as exc:
        ballot_check(
            rules=BallotRules(BallotKind.SCORING), projects=PROJECTS, choices={"P01": 11, "P02": 3}
        )
    assert "P01" in exc.value.message
    ballot_check(
        rules=BallotRules(BallotKind.SCORING),
        projects=PROJECTS,
        choices={"P01": 10, "P02": 0, "P03": 3},
    )


def test_cumulative_refuses_points_over_the_total() -> None:
    rules = BallotRules(BallotKind.CUMULATIVE, total_points=10)
    with pytest.raises(BallotError) as exc:
        ballot_check(rules=rules, projects=PROJECTS, choices={"P01": 6, "P02": 5})
    assert "11" in exc.value.message
    ballot_check(rules=rules, projects=PROJECTS, choices={"P01": 6, "P02": 4})


def test_approval_refuses_over_budget_where_the_vote_forbids_it() -> None:
    rules = BallotRules(BallotKind.APPROVAL, max_cost=BUDGET)
    with pytest.raises(BallotError) as exc:
        ballot_check(rules=rules, projects=PROJECTS, choices={"P01": 1, "P02": 1})
    assert "900,000" in exc.value.message
    ballot_check(rules=rules, projects=PROJECTS, choices={"P01": 1, "P03": 1})
    # without a cap the same ballot is fine
    ballot_check(
        rules=BallotRules(BallotKind.APPROVAL), projects=PROJECTS, choices={"P01": 1, "P02": 1}
    )


@pytest.mark.parametrize(
    "choices",
    [{}, {"P01": 0}, {"P99": 1}, {"P01": -1}],
)
def test_empty_unknown_or_negative_ballots_are_refused(choices: dict[str, int]) -> None:
    with pytest.raises(BallotError):
        ballot_check(rules=BallotRules(BallotKind.SCORING), projects=PROJECTS, choices=choices)


def test_approval_ballots_may_not_carry_points() -> None:
    with pytest.raises(BallotError):
        ballot_check(rules=BallotRules(BallotKind.APPROVAL), projects=PROJECTS, choices={"P01": 5})


def test_costs_are_exact_fractions() -> None:
    election = election_build(
        projects=PROJECTS,
        ballots=_polarised_approval(),
        budget=BUDGET,
        rules=BallotRules(BallotKind.APPROVAL),
    )
    assert election.instance.budget_limit == Fraction(BUDGET)
