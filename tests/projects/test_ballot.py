"""The secret ballot: who voted is kept apart from how; no double vote, no vote after
close or by a non-deputy; the receipt shows the ballot; quorum; the tally and the rule."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from civicloop.projects.errors import ProjectError, ProjectErrorCode
from civicloop.projects.models import Ballot, Candidate, CycleState, VoterRecord
from civicloop.projects.services import ballot_cast, ballot_check, voting_close, voting_open
from tests.projects.conftest import make_deputies, make_user, shortlisted_cycle

pytestmark = pytest.mark.django_db


def _ids(cycle: Any) -> list[int]:
    return list(
        Candidate.objects.filter(cycle=cycle, shortlisted=True)
        .order_by("ballot_number")
        .values_list("pk", flat=True)
    )


def _votes(cycle: Any, pattern: list[str]) -> dict[str, str]:
    return {str(pk): v for pk, v in zip(_ids(cycle), pattern, strict=True)}


def test_ballot_table_names_no_user_and_no_time() -> None:
    """The ballot table has no column that could name a voter or order the casts."""
    with connection.cursor() as cursor:
        columns = [
            c.name
            for c in connection.introspection.get_table_description(cursor, Ballot._meta.db_table)
        ]
    assert sorted(columns) == ["choices", "cycle_id", "id", "kind", "receipt_hash"]
    for field in Ballot._meta.get_fields():
        assert getattr(field, "related_model", None) is None or field.name == "cycle"
        assert field.get_internal_type() not in ("DateTimeField", "DateField", "AutoField")


def test_cast_writes_voter_and_ballot_apart(cycle: Any, office: Any, deputies: list[Any]) -> None:
    voting_open(cycle=cycle, actor=office)
    receipt = ballot_cast(
        cycle=cycle,
        user=deputies[0],
        choices=_votes(cycle, ["for", "against", "abstain", "for", "for"]),
    )
    assert VoterRecord.objects.filter(cycle=cycle, user=deputies[0]).count() == 1
    ballot = Ballot.objects.get(cycle=cycle)
    assert receipt not in str(ballot.choices) and receipt not in ballot.receipt_hash
    view = ballot_check(receipt=receipt)
    assert [v for _t, v in view.lines] == ["赞成", "反对", "弃权", "赞成", "赞成"]
    # The receipt, written with lower case and without dashes, still finds it.
    assert ballot_check(receipt=receipt.replace("-", "").lower()).lines == view.lines
    with pytest.raises(ProjectError) as refused:
        ballot_check(receipt="AAAA-BBBB-CCCC-DDDD")
    assert refused.value.code == ProjectErrorCode.RECEIPT


def test_no_double_vote_no_outsider_no_late_vote(
    cycle: Any, office: Any, deputies: list[Any]
) -> None:
    voting_open(cycle=cycle, actor=office)
    choices = _votes(cycle, ["for"] * 5)
    ballot_cast(cycle=cycle, user=deputies[0], choices=choices)
    with pytest.raises(ProjectError) as twice:
        ballot_cast(cycle=cycle, user=deputies[0], choices=choices)
    assert twice.value.code == ProjectErrorCode.ALREADY_VOTED
    with pytest.raises(ProjectError) as outsider:
        ballot_cast(cycle=cycle, user=office, choices=choices)
    assert outsider.value.code == ProjectErrorCode.NOT_DEPUTY
    # A deputy who joined after the roll was fixed is not on it.
    late_deputy = make_deputies(1, prefix="late")[0]
    with pytest.raises(ProjectError) as not_on_roll:
        ballot_cast(cycle=cycle, user=late_deputy, choices=choices)
    assert not_on_roll.value.code == ProjectErrorCode.NOT_DEPUTY
    with pytest.raises(ProjectError) as incomplete:
        ballot_cast(cycle=cycle, user=deputies[1], choices=dict(list(choices.items())[:2]))
    assert incomplete.value.code == ProjectErrorCode.MISSING
    for deputy in deputies[1:5]:
        ballot_cast(cycle=cycle, user=deputy, choices=choices)
    voting_close(cycle=cycle, actor=office)
    with pytest.raises(ProjectError) as closed:
        ballot_cast(cycle=cycle, user=deputies[6], choices=choices)
    assert closed.value.code == ProjectErrorCode.STATE
    assert Ballot.objects.count() == VoterRecord.objects.count() == 5


def test_refused_cast_leaves_no_row(cycle: Any, office: Any, deputies: list[Any]) -> None:
    voting_open(cycle=cycle, actor=office)
    with pytest.raises(ProjectError):
        ballot_cast(cycle=cycle, user=deputies[0], choices={"99999": "for"})
    assert not VoterRecord.objects.exists() and not Ballot.objects.exists()


def test_no_quorum_publishes_nothing(cycle: Any, office: Any, deputies: list[Any]) -> None:
    """7 deputies, 3 vote: 3 is not more than half of 7, so nothing is published."""
    voting_open(cycle=cycle, actor=office)
    for deputy in deputies[:3]:
        ballot_cast(cycle=cycle, user=deputy, choices=_votes(cycle, ["for"] * 5))
    cycle = voting_close(cycle=cycle, actor=office)
    assert cycle.state == CycleState.CLOSED
    assert "不足法定人数" in cycle.outcome_note and "实到投票 3 人" in cycle.outcome_note
    assert not Candidate.objects.filter(chosen=True).exists()
    assert set(Candidate.objects.values_list("votes_for", flat=True)) == {0}


def test_tally_and_rule_more_than_half_of_all_then_top_places(
    cycle: Any, office: Any, deputies: list[Any]
) -> None:
    """7 on the roll, 6 vote. A needs 4 for (more than half of 7). Candidates 1-5 get
    6, 5, 4, 4, 3 for: 4 pass, the 3 places go to 1, 2 and ... 3 and 4 tie for the
    last place, so neither is chosen."""
    voting_open(cycle=cycle, actor=office)
    patterns = [
        ["for", "for", "for", "for", "for"],
        ["for", "for", "for", "for", "for"],
        ["for", "for", "for", "for", "for"],
        ["for", "for", "for", "for", "against"],
        ["for", "for", "against", "abstain", "abstain"],
        ["for", "against", "abstain", "against", "against"],
    ]
    for deputy, pattern in zip(deputies, patterns, strict=False):
        ballot_cast(cycle=cycle, user=deputy, choices=_votes(cycle, pattern))
    voting_close(cycle=cycle, actor=office)
    rows = list(Candidate.objects.order_by("ballot_number"))
    assert [(c.votes_for, c.votes_against, c.votes_abstain) for c in rows] == [
        (6, 0, 0),
        (5, 1, 0),
        (4, 1, 1),
        (4, 1, 1),
        (3, 2, 1),
    ]
    assert [c.chosen for c in rows] == [True, True, False, False, False]
    assert [c.case.state for c in rows] == [
        "chosen",
        "chosen",
        "not_chosen",
        "not_chosen",
        "not_chosen",
    ]


def test_clear_top_places(office: Any, deputies: list[Any]) -> None:
    cycle = shortlisted_cycle(office=office, count=4, places=2)
    voting_open(cycle=cycle, actor=office)
    patterns = [["for", "for", "for", "against"]] * 3 + [["for", "against", "for", "for"]] * 2
    for deputy, pattern in zip(deputies, patterns, strict=False):
        ballot_cast(cycle=cycle, user=deputy, choices=_votes(cycle, pattern))
    voting_close(cycle=cycle, actor=office)
    chosen = list(
        Candidate.objects.filter(chosen=True).order_by("rank").values_list("title", flat=True)
    )
    # 5, 3, 5, 2 for; 4 needed: 项目1 and 项目3.
    assert chosen == ["项目1", "项目3"]


def test_k_of_n(office: Any, deputies: list[Any]) -> None:
    cycle = shortlisted_cycle(office=office, count=4, places=2, mode="k_of_n")
    voting_open(cycle=cycle, actor=office)
    ids = _ids(cycle)
    with pytest.raises(ProjectError) as too_many:
        ballot_cast(cycle=cycle, user=deputies[0], choices={"chosen": ids[:3]})
    assert too_many.value.code == ProjectErrorCode.INVALID
    picks = [ids[:2], ids[:2], ids[1:3], ids[1:3], [ids[1]]]
    for deputy, pick in zip(deputies, picks, strict=False):
        ballot_cast(cycle=cycle, user=deputy, choices={"chosen": pick})
    voting_close(cycle=cycle, actor=office)
    rows = list(Candidate.objects.order_by("ballot_number"))
    assert [c.votes_for for c in rows] == [2, 5, 2, 0]
    assert [c.chosen for c in rows] == [False, True, False, False]


def test_voting_needs_more_candidates_than_places(office: Any, deputies: list[Any]) -> None:
    cycle = shortlisted_cycle(office=office, count=3, places=3)
    with pytest.raises(ProjectError) as refused:
        voting_open(cycle=cycle, actor=office)
    assert "差额" in refused.value.message


def test_only_the_office_runs_the_vote(cycle: Any, deputies: list[Any]) -> None:
    with pytest.raises(ProjectError) as refused:
        voting_open(cycle=cycle, actor=deputies[0])
    assert refused.value.code == ProjectErrorCode.FORBIDDEN
    stranger = make_user("stranger", unit_code="dept-housing", role="handler")
    with pytest.raises(ProjectError):
        voting_close(cycle=cycle, actor=stranger)


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_cast_stores_one(cycle: Any, office: Any, deputies: list[Any]) -> None:
    """Two casts of the same deputy at the same moment: one ballot, one refusal."""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race is tested on PostgreSQL")
    voting_open(cycle=cycle, actor=office)
    choices = _votes(cycle, ["for"] * 5)
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def cast() -> None:
        barrier.wait()
        try:
            ballot_cast(cycle=cycle, user=deputies[0], choices=choices)
            outcomes.append("ok")
        except ProjectError as exc:
            outcomes.append(str(exc.code))
        finally:
            connection.close()

    threads = [threading.Thread(target=cast) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_voted", "ok"]
    assert Ballot.objects.count() == VoterRecord.objects.count() == 1


def test_admin_registers_no_ballot_voter_or_roll() -> None:
    from django.contrib import admin

    from civicloop.projects.models import RollEntry

    for model in (Ballot, VoterRecord, RollEntry):
        assert not admin.site.is_registered(model)


def test_ballots_list_in_no_casting_order(cycle: Any, office: Any, deputies: list[Any]) -> None:
    """Ballot keys are random and the default order is by receipt hash, so reading the
    ballots back says nothing about who cast first."""
    voting_open(cycle=cycle, actor=office)
    for deputy in deputies:
        ballot_cast(cycle=cycle, user=deputy, choices=_votes(cycle, ["for"] * 5))
    keys = [b.pk for b in Ballot.objects.all()]
    assert all(k.version == 4 for k in keys)
    hashes = list(Ballot.objects.values_list("receipt_hash", flat=True))
    assert hashes == sorted(hashes)


@pytest.mark.django_db(transaction=True)
def test_closing_rewrites_ballots_out_of_casting_order(
    cycle: Any, office: Any, deputies: list[Any]
) -> None:
    """After closing, the database's own row traces no longer follow the casting: on
    SQLite the rowids follow the (random) receipt hashes, on PostgreSQL every ballot
    row has the same writing transaction (xmin). Each cast commits on its own here."""
    voting_open(cycle=cycle, actor=office)
    for deputy in deputies:
        ballot_cast(cycle=cycle, user=deputy, choices=_votes(cycle, ["for"] * 5))
    if connection.vendor != "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT DISTINCT xmin::text FROM {Ballot._meta.db_table}")
            assert len(cursor.fetchall()) == 7
    voting_close(cycle=cycle, actor=office)
    table = Ballot._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"SELECT receipt_hash FROM {table} ORDER BY rowid")
            assert [r[0] for r in cursor.fetchall()] == sorted(
                Ballot.objects.values_list("receipt_hash", flat=True)
            )
        else:
            cursor.execute(f"SELECT DISTINCT xmin::text FROM {table}")
            assert len(cursor.fetchall()) == 1
    assert Ballot.objects.count() == 7


def test_opening_tells_the_deputies_once(cycle: Any, office: Any, deputies: list[Any]) -> None:
    from civicloop.core.outbox.models import OutboxMessage

    for i, deputy in enumerate(deputies):
        deputy.dingtalk_userid = f"ding-{i}"
        deputy.save(update_fields=["dingtalk_userid"])
    voting_open(cycle=cycle, actor=office)
    message = OutboxMessage.objects.get(kind="dingtalk_work")
    assert sorted(message.payload["userids"]) == sorted(f"ding-{i}" for i in range(7))
    assert "/projects/2026/ballot/" in message.payload["text"]
