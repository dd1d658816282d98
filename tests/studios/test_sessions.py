"""民生议事堂: the opinion round (statements, votes, who may), the groups shown, the
conclusion with recommendations followed as cases, and publication."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from civicloop.core.accounts.models import User
from civicloop.core.cases.models import Case
from civicloop.core.units.models import Unit
from civicloop.studios import services
from civicloop.studios.errors import StudioError, StudioErrorCode
from civicloop.studios.models import Participant, Session, Statement, Studio, Vote

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(zeguo: Studio, office: User) -> Session:
    return services.session_create(
        studio=zeguo,
        user=office,
        topic="农贸市场改造",
        background="两个方案",
        held_at=timezone.now() + timedelta(days=7),
        place="工作室会议室",
    )


def test_only_the_office_or_the_head_makes_a_session(zeguo: Studio) -> None:
    with pytest.raises(StudioError) as exc:
        services.session_create(
            studio=zeguo,
            user=User.objects.get(username="handler_zeguo"),
            topic="t",
            background="",
            held_at=timezone.now(),
            place="p",
        )
    assert exc.value.code == StudioErrorCode.FORBIDDEN


def _people(session: Session, n: int) -> list[Participant]:
    return [
        services.participant_add(session=session, name=f"居民{i}", kind="public") for i in range(n)
    ]


def test_the_round_by_the_participants_link(client: Client, session: Session) -> None:
    alice, bob = _people(session, 2)
    client.post(
        f"/studios/round/{alice.token}/", {"act": "post", "text": "  原址改造，  不要搬迁。 "}
    )
    statement = Statement.objects.get()
    assert statement.text == "原址改造， 不要搬迁。" and statement.author == alice
    # Bob sees it and votes; voting again changes the vote.
    page = client.get(f"/studios/round/{bob.token}/").content.decode()
    assert "原址改造" in page
    client.post(f"/studios/round/{bob.token}/", {"statement": statement.pk, "value": "1"})
    client.post(f"/studios/round/{bob.token}/", {"statement": statement.pk, "value": "-1"})
    assert list(Vote.objects.values_list("participant_id", "value")) == [(bob.pk, -1)]
    assert "您已对所有观点表态" in client.get(f"/studios/round/{bob.token}/").content.decode()
    # A bad value is refused, nothing stored.
    client.post(f"/studios/round/{bob.token}/", {"statement": statement.pk, "value": "7"})
    assert Vote.objects.get().value == -1
    assert client.get("/studios/round/not-a-token/").status_code == 404


def test_a_statement_over_the_limit_and_a_statement_of_another_session(
    session: Session, zeguo: Studio, office: User
) -> None:
    (alice,) = _people(session, 1)
    with pytest.raises(StudioError) as exc:
        services.statement_post(participant=alice, text="长" * 281)
    assert exc.value.code == StudioErrorCode.STATEMENT_LONG and "281" in exc.value.message
    other = services.session_create(
        studio=zeguo, user=office, topic="另一个", background="", held_at=timezone.now(), place="p"
    )
    (carol,) = _people(other, 1)
    foreign = services.statement_post(participant=carol, text="别处的观点")
    with pytest.raises(StudioError):
        services.vote_cast(participant=alice, statement=foreign, value=1)


def test_too_few_votes_say_so_then_planted_groups_show(
    client: Client, session: Session, office: User
) -> None:
    people = _people(session, 12)
    a = [services.statement_post(participant=people[0], text=f"甲方观点{i}") for i in range(3)]
    b = [services.statement_post(participant=people[1], text=f"乙方观点{i}") for i in range(3)]
    common = services.statement_post(participant=people[2], text="大家都同意的观点")
    staff = Client()
    staff.force_login(office)
    page = staff.get(f"/studios/sessions/{session.pk}/").content.decode()
    assert 'data-grouping="sparse"' in page
    for i, person in enumerate(people):
        mine, theirs = (a, b) if i % 2 == 0 else (b, a)
        for st in mine:
            services.vote_cast(participant=person, statement=st, value=1)
        for st in theirs:
            services.vote_cast(participant=person, statement=st, value=-1)
        services.vote_cast(participant=person, statement=common, value=1)
    page = staff.get(f"/studios/sessions/{session.pk}/").content.decode()
    assert 'data-grouping="groups"' in page
    assert page.count("<circle") == 12
    assert "大家都同意的观点" in page.split("共识观点", 1)[1]
    # Not published yet: the public does not see it.
    assert client.get(f"/studios/sessions/{session.pk}/").status_code == 404


def test_the_conclusion_follows_each_recommendation_as_a_case(
    client: Client, session: Session, office: User
) -> None:
    (alice,) = _people(session, 1)
    town = Unit.objects.get(code="town-331081100")
    staff = Client()
    staff.force_login(office)
    response = staff.post(
        f"/studios/sessions/{session.pk}/manage/",
        {
            "act": "conclude",
            "minutes": "与会人员一致同意原址改造。",
            "recommendation": ["改造期间设临时摊位", "", "每月公开改造进度"],
            "unit": [str(town.pk), str(town.pk), str(town.pk)],
        },
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.published and not session.round_open
    cases = list(Case.objects.filter(channel="consultation_referral").order_by("pk"))
    assert [c.body for c in cases] == ["改造期间设临时摊位", "每月公开改造进度"]
    assert all(c.owner_unit_id == town.pk and c.due_at is not None for c in cases)
    page = client.get(f"/studios/sessions/{session.pk}/").content.decode()
    assert "原址改造" in page and "每月公开改造进度" in page and "办理中" in page
    # The round is closed now.
    with pytest.raises(StudioError) as exc:
        services.statement_post(participant=alice, text="晚到的观点")
    assert exc.value.code == StudioErrorCode.STATE
    handler = User.objects.get(username="handler_zeguo")
    services.referral_result(referral=cases[0], user=handler, text="已设临时摊位40个。")
    assert "已设临时摊位40个" in client.get(f"/studios/sessions/{session.pk}/").content.decode()


def test_the_manage_page_is_the_office_or_heads(client: Client, session: Session) -> None:
    client.force_login(User.objects.get(username="handler_zeguo"))
    assert client.get(f"/studios/sessions/{session.pk}/manage/").status_code == 403
