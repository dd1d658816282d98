"""Fixtures of the 代表建议 tests: Wenling's areas and units, core's demo logins, a few
deputies, and helpers that take a suggestion through the loop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from django.utils import timezone

from civicloop.core.accounts.models import User
from civicloop.core.accounts.roles import Role
from civicloop.core.areas.services import areas_import_csv
from civicloop.core.cases.models import Case
from civicloop.core.cases.services import CaseDraft, case_submit
from civicloop.core.demo import (
    AREAS_CSV,
    DEMO_LOGINS,
    DEMO_PASSWORD,
    UNITS_CSV,
    demo_user_ensure,
)
from civicloop.core.units.models import Membership, Unit
from civicloop.core.units.services import units_import_csv
from civicloop.suggestions.demo import deputies_ensure
from civicloop.suggestions.models import Suggestion
from civicloop.suggestions.services import (
    SuggestionDraft,
    suggestion_answer,
    suggestion_assign,
    suggestion_contact_record,
    suggestion_draft,
    suggestion_review,
    suggestion_submit,
    suggestion_views_send,
)


@dataclass
class People:
    wang: User
    lin: User
    chen: User
    office: User
    housing: User
    transport: User
    leader: User
    housing_unit: Unit
    transport_unit: Unit
    station: Unit


@pytest.fixture
def people(db: None) -> People:
    with AREAS_CSV.open(encoding="utf-8") as f:
        areas_import_csv(stream=f)
    with UNITS_CSV.open(encoding="utf-8") as f:
        units_import_csv(stream=f)
    for login in DEMO_LOGINS:
        demo_user_ensure(login)
    deputies = {u.username: u for u in deputies_ensure()}
    transport_unit = Unit.objects.get(code="dept-transport")
    transport, created = User.objects.get_or_create(
        username="handler_transport", defaults={"full_name": "交通经办"}
    )
    if created:
        transport.set_password(DEMO_PASSWORD)
        transport.save()
    Membership.objects.get_or_create(user=transport, unit=transport_unit, role=Role.HANDLER)
    return People(
        wang=deputies["deputy_wang"],
        lin=deputies["deputy_001"],
        chen=deputies["deputy_002"],
        office=User.objects.get(username="npc_office"),
        housing=User.objects.get(username="handler_housing"),
        transport=transport,
        leader=User.objects.get(username="leader"),
        housing_unit=Unit.objects.get(code="dept-housing"),
        transport_unit=transport_unit,
        station=Unit.objects.get(code="station-331081100"),
    )


@pytest.fixture
def opinion_case(people: People) -> Any:
    """An opinion the deputy may see (owned by their station). Tests using it are
    marked needs_modules("opinions")."""

    def make(title: str = "村口道路破损") -> Case:
        return case_submit(
            draft=CaseDraft(
                channel="opinion",
                title=title,
                body=f"{title}，请尽快处理。",
                owner_unit=people.station,
                contact_phone="13900001111",
            )
        )

    return make


def draft(people: People, **kw: Any) -> Suggestion:
    fields: dict[str, Any] = {
        "title": "关于加快泽国镇农村公路提档升级的建议",
        "body": "泽国镇部分农村公路路面狭窄、破损严重，建议列入年度计划提档升级。",
        "category": "transport",
    }
    fields.update(kw)
    return suggestion_draft(deputy=people.wang, draft=SuggestionDraft(**fields))


def to_handling(
    people: People, *, assisting: bool = True, now: datetime | None = None
) -> Suggestion:
    s = draft(people)
    suggestion_submit(suggestion=s, actor=people.wang, now=now)
    suggestion_review(suggestion=s, actor=people.office, accept=True, now=now)
    suggestion_assign(
        suggestion=s,
        actor=people.office,
        lead=people.housing_unit,
        assisting=[people.transport_unit] if assisting else [],
        now=now,
    )
    s.refresh_from_db()
    return s


def to_answered(people: People, *, category: str = "A") -> Suggestion:
    s = to_handling(people)
    suggestion_views_send(
        suggestion=s, actor=people.transport, unit=people.transport_unit, views="同意列入计划。"
    )
    suggestion_contact_record(
        suggestion=s,
        actor=people.housing,
        method="phone",
        contacted_on=timezone.localdate(),
        note="电话沟通办理思路。",
    )
    suggestion_answer(suggestion=s, actor=people.housing, category=category, text="已列入计划。")
    s.refresh_from_db()
    return s
