"""Workbench, case list and case page: what each user sees, and how many queries it costs."""

from __future__ import annotations

import pytest
from django.urls import reverse

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]


def test_workbench_shows_counts_for_handler(login_as):
    response = login_as("handler_zeguo").get(reverse("web:workbench"))
    assert response.status_code == 200
    sections = {s.key: s for s in response.context["sections"]}
    # The demo holds one dispatched opinion at 泽国镇人民政府 (waiting to be claimed)
    # and one in handling.
    assert sections["to_accept"].count == 1
    assert [c.title for c in sections["to_accept"].cases] == ["老旧小区楼道灯不亮"]
    page = response.content.decode()
    for title in ("待受理/待签收", "即将到期", "已超期", "近期办结"):
        assert title in page
    assert 'data-count="to_accept">1<' in page


def test_workbench_query_count(login_as, django_assert_max_num_queries):
    client = login_as("handler_zeguo")
    with django_assert_max_num_queries(15):
        assert client.get(reverse("web:workbench")).status_code == 200


def test_case_detail_query_count(login_as, new_opinion, django_assert_max_num_queries):
    case = new_opinion(steps=("accept",))
    client = login_as("station_zeguo")
    with django_assert_max_num_queries(20):
        response = client.get(reverse("web:case_detail", args=[case.number]))
    assert response.status_code == 200


def test_case_detail_shows_fields_timeline_and_actions(login_as, new_opinion):
    case = new_opinion()
    page = login_as("station_zeguo").get(reverse("web:case_detail", args=[case.number]))
    html = page.content.decode()
    assert case.number in html and "村口路灯不亮" in html
    assert "待受理" in html
    assert "陈**" in html and "139****5678" in html
    assert "13912345678" not in html
    assert "查看完整联系方式" in html
    assert 'data-action="accept"' in html and 'data-action="answer"' in html
    assert 'id="action-dispatch"' not in html  # not available before 受理
    assert html.count('name="accept-idempotency_key"') == 1


def test_other_unit_gets_404(login_as, new_opinion):
    case = new_opinion()
    client = login_as("handler_housing")
    assert client.get(reverse("web:case_detail", args=[case.number])).status_code == 404
    act = reverse("web:case_act", args=[case.number, "accept"])
    assert client.post(act, {"accept-idempotency_key": "x"}).status_code == 404
    reveal = reverse("web:case_contact_reveal", args=[case.number])
    assert client.post(reveal).status_code == 404
    assert client.get(reverse("web:case_detail", args=["MY-2000-999999"])).status_code == 404


def test_case_list_filters_and_pagination(login_as, new_opinion):
    first = new_opinion(title="第一件")
    for i in range(25):
        new_opinion(title=f"批量事项{i}")
    client = login_as("station_zeguo")
    response = client.get(reverse("web:case_list"))
    assert response.status_code == 200
    page = response.context["page"]
    assert page.paginator.per_page == 25
    assert page.paginator.count >= 32  # 26 new + 6 demo opinions
    assert page.paginator.num_pages == 2
    second = client.get(reverse("web:case_list"), {"state": "open", "page": 2})
    assert second.status_code == 200
    assert "state=open" in second.context["query"]

    by_number = client.get(reverse("web:case_list"), {"q": first.number})
    assert [c.number for c in by_number.context["page"].object_list] == [first.number]
    by_title = client.get(reverse("web:case_list"), {"q": "批量事项1"})
    assert by_title.context["page"].paginator.count == 11  # 批量事项1, 10..19
    closed = client.get(reverse("web:case_list"), {"state": "closed", "channel": "opinion"})
    assert [c.title for c in closed.context["page"].object_list] == ["建议增设公交站台"]


def test_case_list_mine_and_overdue_for_handler(login_as):
    client = login_as("handler_zeguo")
    mine = client.get(reverse("web:case_list"), {"mine": "on"})
    titles = {c.title for c in mine.context["page"].object_list}
    assert titles == {"老旧小区楼道灯不亮", "菜市场消防通道被占用"}
    overdue = client.get(reverse("web:case_list"), {"overdue": "on"})
    assert overdue.status_code == 200
