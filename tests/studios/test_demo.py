"""The studios demo as `load_demo` makes it: 37 studios, 80+ members, 179 threads in
every state, 40 reports with adoptions at several levels, one session of 30."""

from __future__ import annotations

import pytest

from civicloop.core.cases.models import Case
from civicloop.studios.demo import demo_studios_load
from civicloop.studios.grouping import groups_find
from civicloop.studios.models import Adoption, Member, Report, Session, Studio, Thread
from civicloop.studios.selectors import session_matrix

pytestmark = pytest.mark.django_db


def test_the_demo(demo_city: None) -> None:
    demo_studios_load(lambda _m: None)
    assert Studio.objects.filter(kind="town").count() == 16
    assert Studio.objects.filter(kind="sector").count() == 21
    assert Member.objects.count() >= 80
    assert Thread.objects.count() == 179
    states = set(Case.objects.filter(channel="consultation").values_list("state", flat=True))
    assert states == {"waiting", "answered", "invited", "with_unit", "closed"}
    assert Case.objects.filter(channel="consultation_referral", state="done").exists()
    assert Report.objects.count() == 40
    levels = set(Adoption.objects.values_list("level", flat=True))
    assert {"wenling", "taizhou", "province"} <= levels
    session = Session.objects.get()
    participants, _statements, matrix = session_matrix(session=session)
    assert len(participants) == 30
    assert groups_find(matrix).k == 2
    # A second load adds nothing.
    demo_studios_load(lambda _m: None)
    assert Thread.objects.count() == 179 and Studio.objects.count() == 37
