"""The top bar: module links, and a section's links under one menu."""

from __future__ import annotations

import pytest
from django.urls import reverse

from civicloop.core.registry import NavItem
from civicloop.web.templatetags.civicloop_web import nav_entries


def _item(label: str, path: str, order: int, section: str = "") -> NavItem:
    return NavItem(label, path, lambda user: True, order=order, section=section)


def test_section_with_two_links_is_one_menu_where_its_first_link_was():
    items = [
        _item("驾驶舱", "/cockpit/", 5),
        _item("民意信箱", "/deputy/inbox/", 10, "人大"),
        _item("执法审核", "/firelane/review/", 30, "生命通道"),
        _item("代表建议", "/suggestions/", 40, "人大"),
        _item("建议统计", "/suggestions/figures/", 41, "人大"),
    ]

    entries = nav_entries(items, "/suggestions/figures/")

    assert [e["label"] for e in entries] == ["驾驶舱", "人大", "执法审核"]
    menu = entries[1]
    assert [link["label"] for link in menu["links"]] == ["民意信箱", "代表建议", "建议统计"]
    # The longest matching path is the current page, not its parent /suggestions/.
    assert [link["current"] for link in menu["links"]] == [False, False, True]
    assert menu["current"] is True
    # A section the user sees one link of is a plain link.
    assert "links" not in entries[2] and entries[2]["path"] == "/firelane/review/"


def test_no_link_is_current_on_an_unrelated_page():
    entries = nav_entries([_item("驾驶舱", "/cockpit/", 5)], "/cases/")
    assert entries == [{"label": "驾驶舱", "path": "/cockpit/", "current": False}]


@pytest.mark.django_db
@pytest.mark.needs_modules("opinions", "suggestions")
def test_administrator_sees_the_npc_links_under_one_menu(login_as):
    html = login_as("admin").get(reverse("web:workbench")).content.decode()
    menu = html.split('<details class="nav-menu" data-nav-menu>', 1)[1].split("</details>", 1)[0]
    assert "人大" in menu.split("</summary>", 1)[0]
    assert 'href="/opinions/stats/"' in menu and 'href="/suggestions/"' in menu
    # Each link is in the bar once.
    assert html.count('href="/suggestions/"') == 1
