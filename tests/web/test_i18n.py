"""English through Accept-Language or the language switch (set_language)."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_chinese_by_default(login_as):
    html = login_as("handler_zeguo").get(reverse("web:workbench")).content.decode()
    assert "工作台" in html and 'lang="zh-hans"' in html


def test_english_by_accept_language(login_as):
    client = login_as("handler_zeguo")
    html = client.get(reverse("web:workbench"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="en"' in html
    assert "Workbench" in html and "Overdue" in html
    assert "Wenling Digital Governance Platform" in html


def test_english_by_set_language(login_as):
    client = login_as("handler_zeguo")
    response = client.post(
        reverse("set_language"), {"language": "en", "next": reverse("web:case_list")}
    )
    assert response.status_code == 302
    html = client.get(reverse("web:case_list")).content.decode()
    assert "Cases" in html and "Filter" in html
    assert "中文" in html  # the way back
