"""The demo: 30+ suggestions in every state, co-signed and key ones, idempotent."""

from __future__ import annotations

import pytest

from civicloop.core.cases.models import Case
from civicloop.suggestions import workflow as wf
from civicloop.suggestions.demo import demo_suggestions_load
from civicloop.suggestions.models import Answer, CosignStatus, Suggestion
from civicloop.suggestions.selectors import suggestion_figures
from tests.suggestions.conftest import People

pytestmark = pytest.mark.django_db


def test_demo_covers_every_state_and_runs_twice(people: People) -> None:
    demo_suggestions_load(lambda _m: None)
    states = set(Case.objects.filter(channel="suggestion").values_list("state", flat=True))
    assert {s.code for s in wf.SUGGESTION_FLOW.states} <= states
    count = Suggestion.objects.count()
    assert count >= 30
    assert Suggestion.objects.filter(is_key=True).count() >= 3
    assert (
        Suggestion.objects.filter(cosigners__status=CosignStatus.CONFIRMED).distinct().count() >= 5
    )
    assert Answer.objects.filter(on_time=False).exists()
    assert Suggestion.objects.filter(case__state="closed", case__rating="basically").exists()
    demo_suggestions_load(lambda _m: None)
    assert Suggestion.objects.count() == count
    f = suggestion_figures(year=Suggestion.objects.first().year)  # type: ignore[union-attr]
    assert f.total > 0


@pytest.mark.needs_modules("opinions")
def test_demo_links_earlier_opinions(people: People, opinion_case: object) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from civicloop.core.cases.links import case_became

    old = opinion_case("村口道路破损")  # type: ignore[operator]
    Case.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))
    demo_suggestions_load(lambda _m: None)
    became = case_became(case=old)
    assert len(became) == 1
    s = Suggestion.objects.get(case__number=became[0])
    # Raised by a deputy of the station that received the opinion.
    assert s.deputy.memberships.filter(unit=people.station, role="deputy").exists()
