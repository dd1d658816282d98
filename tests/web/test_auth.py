"""Sign-in, sign-out and login throttling (django-axes)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from civicloop.core.accounts.errors import AccountError, AccountErrorCode
from civicloop.core.accounts.models import User
from civicloop.core.accounts.services import account_login_attempt, account_login_unlock
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


# --------------------------------------------------------------------------- per-account limit


def _try(client: Any, address: str, password: str = "wrong-password") -> Any:
    return client.post(
        reverse("web:login"),
        {"username": "handler_zeguo", "password": password},
        REMOTE_ADDR=address,
    )


def _time_passes(hours: float = 2) -> None:
    """As if the waits were over: the last failure lies hours back."""
    User.objects.filter(username="handler_zeguo").update(
        login_failed_at=timezone.now() - timedelta(hours=hours)
    )


def test_guessing_from_many_addresses_slows_then_locks_the_account(demo, client, settings):
    """Given an account, when wrong passwords come from a new address each time (so the
    per-address lockout never trips), then after ACCOUNT_LOGIN_SLOW_AFTER failures the
    next try must wait, even with the right password; after ACCOUNT_LOGIN_LOCK_AFTER the
    account is locked whatever the time; an admin unlocks it."""
    settings.ACCOUNT_LOGIN_SLOW_AFTER = 3
    settings.ACCOUNT_LOGIN_LOCK_AFTER = 5
    for n in range(3):
        assert _try(client, f"203.0.113.{n}").status_code == 200
    waiting = _try(client, "203.0.113.50", DEMO_PASSWORD)
    assert waiting.status_code == 200 and "_auth_user_id" not in client.session
    assert "秒后再试" in waiting.content.decode()

    _time_passes()
    _try(client, "203.0.113.51")  # the 4th failure
    _time_passes()
    _try(client, "203.0.113.52")  # the 5th failure
    _time_passes(hours=48)
    locked = _try(client, "203.0.113.53", DEMO_PASSWORD)
    assert "_auth_user_id" not in client.session
    assert "已锁定" in locked.content.decode()
    assert User.objects.get(username="handler_zeguo").login_locked_at is not None

    account_login_unlock(
        user=User.objects.get(username="handler_zeguo"), actor=User.objects.get(username="admin")
    )
    assert _try(client, "203.0.113.54", DEMO_PASSWORD).status_code == 302


def test_a_browser_that_signed_in_before_is_not_locked_out_by_strangers(demo, client, settings):
    """Given the owner signed in once from their browser, when strangers lock the account
    from elsewhere, then the owner's browser still signs in and strangers stay locked."""
    settings.ACCOUNT_LOGIN_SLOW_AFTER = 1
    settings.ACCOUNT_LOGIN_LOCK_AFTER = 2
    own = Client()
    assert _try(own, "198.51.100.7", DEMO_PASSWORD).status_code == 302
    own.post(reverse("web:logout"))
    stranger = Client()
    for n in range(3):
        _try(stranger, f"203.0.113.{n}")
        _time_passes()
    assert User.objects.get(username="handler_zeguo").login_locked_at is not None

    assert _try(own, "198.51.100.7", DEMO_PASSWORD).status_code == 302
    assert "已锁定" in _try(stranger, "203.0.113.9", DEMO_PASSWORD).content.decode()


def test_parallel_tries_cannot_share_one_opening(demo, settings):
    """Given an account slowed down, when two tries arrive in the same opening, then only
    the first is counted and let through to the password check."""
    settings.ACCOUNT_LOGIN_SLOW_AFTER = 0
    user = User.objects.get(username="handler_zeguo")
    account_login_attempt(user=user)
    with pytest.raises(AccountError) as refused:
        account_login_attempt(user=user)
    assert refused.value.code == AccountErrorCode.LOGIN_WAIT and refused.value.retry_after > 0


def test_only_an_admin_or_the_persons_unit_leader_unlocks(demo):
    locked = User.objects.get(username="handler_zeguo")
    User.objects.filter(pk=locked.pk).update(login_locked_at=timezone.now(), login_failures=30)
    for outsider in ("handler_housing", "supervision", "handler_zeguo"):
        with pytest.raises(AccountError):
            account_login_unlock(user=locked, actor=User.objects.get(username=outsider))
    assert User.objects.get(pk=locked.pk).login_locked_at is not None
    account_login_unlock(user=locked, actor=User.objects.get(username="leader_zeguo"))
    unlocked = User.objects.get(pk=locked.pk)
    assert unlocked.login_locked_at is None and unlocked.login_failures == 0


def test_a_unit_leader_lifts_the_lock_on_the_sign_in_locks_page(demo, login_as):
    """Given a locked handler, when the leader of the handler's unit opens the page and
    unlocks, then the handler signs in again; a leader of another unit sees nobody and
    cannot unlock."""
    locked = User.objects.get(username="handler_zeguo")
    User.objects.filter(pk=locked.pk).update(login_locked_at=timezone.now(), login_failures=30)
    outsider = login_as("supervision")
    assert locked.username not in outsider.get(reverse("web:sign_in_locks")).content.decode()
    refused = outsider.post(reverse("web:sign_in_locks"), {"user": locked.pk})
    assert refused.status_code == 403
    assert User.objects.get(pk=locked.pk).login_locked_at is not None

    leader = login_as("leader_zeguo")
    assert locked.username in leader.get(reverse("web:sign_in_locks")).content.decode()
    assert leader.post(reverse("web:sign_in_locks"), {"user": locked.pk}).status_code == 302
    assert User.objects.get(pk=locked.pk).login_locked_at is None
    assert _try(Client(), "203.0.113.60", DEMO_PASSWORD).status_code == 302
