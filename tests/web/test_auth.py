"""Sign-in, sign-out and login throttling (django-axes)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from civicloop.core.accounts.models import User
from civicloop.core.demo import DEMO_PASSWORD
from civicloop.core.units.models import Unit
from civicloop.core.units.selectors import user_standing

pytestmark = pytest.mark.django_db


def test_login_page_is_chinese(demo, client):
    response = client.get(reverse("web:login"))
    assert response.status_code == 200
    assert "工作人员登录" in response.content.decode()
    assert "温岭数字治理平台" in response.content.decode()


def test_pages_require_login(demo, client):
    for name in ("web:workbench", "web:case_list"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("web:login"))


def test_root_redirects_to_workbench(login_as):
    client = login_as("handler_zeguo")
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:workbench")


def test_login_with_password_goes_to_workbench(demo, client):
    response = client.post(
        reverse("web:login"), {"username": "handler_zeguo", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:workbench")
    page = client.get(reverse("web:workbench")).content.decode()
    handler = User.objects.get(username="handler_zeguo")
    assert handler.masked_name in page  # the masked name in the top bar
    units = Unit.objects.filter(pk__in=user_standing(handler).unit_ids)
    assert units and all(unit.name in page for unit in units)


def test_failed_logins_lock_after_limit(demo, client):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = client.post(
            reverse("web:login"), {"username": "handler_zeguo", "password": "wrong-password"}
        )
        assert response.status_code == 200
    response = client.post(
        reverse("web:login"), {"username": "handler_zeguo", "password": "wrong-password"}
    )
    assert response.status_code == 429
    # Locked: even the right password is refused now, with the Chinese lockout page.
    response = client.post(
        reverse("web:login"), {"username": "handler_zeguo", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 429
    assert "登录已暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_is_post_only(login_as):
    client = login_as("handler_zeguo")
    assert client.get(reverse("web:logout")).status_code == 405
    response = client.post(reverse("web:logout"))
    assert response.status_code == 302
    assert client.get(reverse("web:workbench")).status_code == 302


def test_admin_link_only_for_admins(login_as, client):
    assert (
        "管理后台" not in login_as("handler_zeguo").get(reverse("web:workbench")).content.decode()
    )
    assert "管理后台" in login_as("admin").get(reverse("web:workbench")).content.decode()


def test_the_lockout_counts_the_client_behind_a_trusted_proxy(demo, client, settings):
    """Given nginx on 10.0.0.5 as a trusted proxy, when one client fails to sign in until
    locked, then that client is locked and another client behind the same proxy is not."""
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    proxy = {"REMOTE_ADDR": "10.0.0.5"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("web:login"),
            {"username": "handler_zeguo", "password": "wrong-password"},
            HTTP_X_FORWARDED_FOR="203.0.113.7",
            **proxy,
        )
    locked = client.post(
        reverse("web:login"),
        {"username": "handler_zeguo", "password": DEMO_PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.7",
        **proxy,
    )
    assert locked.status_code == 429
    other = client.post(
        reverse("web:login"),
        {"username": "handler_zeguo", "password": DEMO_PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.9",
        **proxy,
    )
    assert other.status_code == 302
