"""The yearly figures, who sees which suggestion, the cockpit tile, and the list page's
query count."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from civicloop.suggestions.models import Answer, Suggestion
from civicloop.suggestions.selectors import (
    cockpit_figures,
    public_answers,
    suggestion_figures,
    suggestions_visible_to,
)
from civicloop.suggestions.services import (
    suggestion_answer,
    suggestion_contact_record,
    suggestion_evaluate,
)
from tests.suggestions.conftest import People, draft, to_answered, to_handling

pytestmark = pytest.mark.django_db


def test_figures_count_on_time_shares_and_satisfaction(people: People) -> None:
    a = to_answered(people, category="A")
    suggestion_evaluate(suggestion=a, actor=people.wang, rating="satisfied")
    b = to_answered(people, category="B")
    suggestion_evaluate(suggestion=b, actor=people.wang, rating="unsatisfied", comment="不具体")
    suggestion_contact_record(
        suggestion=b,
        actor=people.housing,
        method="phone",
        contacted_on=timezone.localdate(),
        note="再沟通",
    )
    suggestion_answer(suggestion=b, actor=people.housing, category="C", text="条件不具备")
    suggestion_evaluate(suggestion=b, actor=people.wang, rating="unsatisfied", comment="仍不满意")
    c = to_answered(people, category="B")
    # c was answered late: its first answer after the deadline.
    Answer.objects.filter(suggestion=c).update(on_time=False)
    to_handling(people)
    draft(people)  # a draft is not counted
    f = suggestion_figures(year=timezone.localdate().year)
    assert f.total == 4
    assert f.answered == 3 and f.answered_on_time == 2
    assert f.on_time_rate == pytest.approx(2 / 3, abs=1e-4)
    assert f.categories == {"A": 1, "B": 1, "C": 1}
    assert f.category_shares["A"] == pytest.approx(1 / 3, abs=1e-4)
    # Only closed suggestions' last evaluations count: a satisfied, b unsatisfied.
    assert f.evaluated == 2 and f.satisfaction_rate == 0.5
    assert f.per_deputy[0]["count"] == 4
    unit = f.per_unit[0]
    assert unit["unit"] == people.housing_unit.name and unit["count"] == 4
    assert unit["answered"] == 3 and unit["on_time"] == 2


def test_visibility_by_role(people: People) -> None:
    s = to_handling(people)
    d = draft(people, cosigner_ids=[people.lin.pk])
    assert set(suggestions_visible_to(people.wang)) == {s, d}
    assert set(suggestions_visible_to(people.lin)) == {d}
    assert set(suggestions_visible_to(people.office)) == {s}
    assert set(suggestions_visible_to(people.housing)) == {s}
    assert set(suggestions_visible_to(people.transport)) == {s}
    # The city leader oversees the area the deputy's station is in.
    assert set(suggestions_visible_to(people.leader)) == {s}
    assert not suggestions_visible_to(people.chen).exists()


def test_public_answers_need_consent(people: People) -> None:
    s = to_answered(people)
    assert not public_answers().exists()
    Suggestion.objects.filter(pk=s.pk).update(publish_consent=True)
    assert list(public_answers()) == [s]


def test_cockpit_tile(people: People) -> None:
    s = to_handling(people)
    now = timezone.now()
    values = {str(v.label): v.value for v in cockpit_figures(user=people.office, now=now) or []}
    assert values["办理中"] == 1 and values["已超期"] == 0
    later = {
        str(v.label): v.value
        for v in cockpit_figures(user=people.office, now=now + timedelta(days=200)) or []
    }
    assert later["已超期"] == 1
    assert cockpit_figures(user=people.housing, now=now) is None
    assert s.case.due_at is not None


def test_list_page_query_count(people: People, django_assert_max_num_queries: object) -> None:
    for _ in range(3):
        to_handling(people)
    c = Client()
    c.force_login(people.office)
    c.get("/suggestions/")
    for _ in range(5):
        to_handling(people)
    with django_assert_max_num_queries(30):  # type: ignore[operator]
        assert c.get("/suggestions/").status_code == 200


def test_a_leaders_figures_cover_their_areas(people: People) -> None:
    from civicloop.core.accounts.models import User
    from civicloop.core.areas.models import Area
    from civicloop.core.units.models import AreaGrant
    from civicloop.suggestions.selectors import figures_areas_for

    to_handling(people)  # raised by a deputy of the 泽国镇 station
    elsewhere = User.objects.create(username="leader_daxi")
    AreaGrant.objects.create(user=elsewhere, area=Area.objects.get(code="331081101"))
    year = timezone.localdate().year
    assert suggestion_figures(year=year, area_paths=figures_areas_for(people.leader)).total == 1
    assert suggestion_figures(year=year, area_paths=figures_areas_for(elsewhere)).total == 0
    assert figures_areas_for(people.office) is None
