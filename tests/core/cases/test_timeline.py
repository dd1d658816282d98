"""The timeline is append-only and hash-chained; verify_chains names the first break."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civicloop.core.cases.models import Case, TimelineEntry
from civicloop.core.cases.services import timeline_append, transition
from civicloop.core.cases.timeline import chain_check, chains_verify, entry_hash
from tests.core.cases.helpers import opinion, user

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]


def closed_case() -> Case:
    case = opinion()
    return transition(
        case=case, action="answer", actor=user("deputy_wang"), note="已向群众解释相关政策。"
    )


def run_verify() -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_chains", stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_each_entry_links_to_the_one_before(demo_city: None) -> None:
    case = closed_case()
    entries = list(case.timeline.order_by("seq"))
    assert [e.seq for e in entries] == [1, 2]
    assert entries[1].prev_hash == entries[0].hash
    assert all(entry_hash(e, case_number=case.number) == e.hash for e in entries)
    assert chain_check(case.number, entries) is None


def test_verify_chains_passes_on_an_untouched_database(demo_city: None) -> None:
    closed_case()
    code, out, _ = run_verify()
    assert code == 0 and "every chain holds" in out


def test_a_tampered_note_is_caught_and_named(demo_city: None) -> None:
    case = closed_case()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_timelineentry SET note = %s WHERE case_id = %s AND seq = 2",
            ["已办结（改）", case.pk],
        )
    code, _, err = run_verify()
    assert code == 1
    assert f"{case.number}: entry #2 was altered" in err


def test_a_deleted_entry_is_caught(demo_city: None) -> None:
    case = closed_case()
    transition_more = opinion()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM cases_timelineentry WHERE case_id = %s AND seq = 1", [case.pk])
    code, _, err = run_verify()
    assert code == 1 and f"{case.number}: entry #1 is missing" in err
    assert transition_more.number not in err


def test_entries_cannot_be_changed_through_the_orm(demo_city: None) -> None:
    entry = closed_case().timeline.first()
    assert entry is not None
    entry.note = "changed"
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    notes=st.lists(st.text(min_size=0, max_size=40), min_size=1, max_size=6),
    victim=st.integers(min_value=0, max_value=10),
    field=st.sampled_from(["note", "action", "actor_label", "prev_hash", "data"]),
)
def test_any_single_change_breaks_the_chain(
    demo_city: None, notes: list[str], victim: int, field: str
) -> None:
    case = opinion()
    for note in notes:
        locked = Case.objects.select_for_update().get(pk=case.pk)
        timeline_append(case=locked, action="comment", note=note)
    entries = list(TimelineEntry.objects.filter(case=case).order_by("seq"))
    assert chain_check(case.number, entries) is None

    target = entries[victim % len(entries)]
    if field == "data":
        target.data = {**target.data, "x": 1}
    elif field == "prev_hash":
        target.prev_hash = "0" * 64
    else:
        setattr(target, field, str(getattr(target, field)) + "·")
    found = chain_check(case.number, entries)
    assert found is not None and found.seq == target.seq


def test_chains_verify_counts_every_case(demo_city: None) -> None:
    before = Case.objects.count()
    closed_case()
    checked, breaks = chains_verify(batch_size=2)
    assert checked == before + 1 and breaks == []
