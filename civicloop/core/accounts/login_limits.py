"""The per-account limit on staff password sign-in, across every address.

django-axes locks a username at one address after a few failures; an attacker with many
addresses gets that many tries per address. So each account also counts its failures
in a row wherever they come from (`User.login_failures`): after
settings.ACCOUNT_LOGIN_SLOW_AFTER the next try waits (30 s, doubling with each failure
up to settings.ACCOUNT_LOGIN_MAX_WAIT), and after settings.ACCOUNT_LOGIN_LOCK_AFTER the
account is locked until an admin or the person's unit leader unlocks it
(`account_login_unlock`).

The trade-off: a count per account lets anyone who knows a username slow it down or
lock it. Two things keep that from being cheap: reaching the lock takes many hours of
paced tries per account (about 14 with the defaults), and a browser that has signed in
to the account before carries a signed cookie naming it (a "device cookie", as OWASP
recommends against lockout abuse) and is exempt from the account's count: the owner
keeps working from their own browser while a stranger's tries are slowed and locked.
Such a browser is still limited by axes per address.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.core.signing import BadSignature
from django.http import HttpRequest, HttpResponse

from civicloop.core.accounts.errors import AccountError
from civicloop.core.accounts.models import User
from civicloop.core.accounts.services import account_login_attempt, account_login_succeeded

DEVICE_COOKIE = "civicloop_device"
DEVICE_COOKIE_SALT = "civicloop.accounts.login-device"
DEVICE_COOKIE_MAX_AGE = timedelta(days=180)
# A shared office computer may be known to a few accounts; the oldest falls off.
DEVICE_COOKIE_MAX_ACCOUNTS = 5


def _device_accounts(request: HttpRequest) -> list[str]:
    try:
        value = request.get_signed_cookie(
            DEVICE_COOKIE,
            default="",
            salt=DEVICE_COOKIE_SALT,
            max_age=DEVICE_COOKIE_MAX_AGE,
        )
    except BadSignature:
        return []
    return [pk for pk in str(value).split(",") if pk]


def login_device_known(*, request: HttpRequest | None, user: User) -> bool:
    """Whether this browser signed in to `user` before (a cookie we signed says so)."""
    return request is not None and str(user.pk) in _device_accounts(request)


def login_device_remember(*, request: HttpRequest, response: HttpResponse, user: User) -> None:
    """After a successful sign-in: the browser is known to `user` from now on."""
    accounts = [pk for pk in _device_accounts(request) if pk != str(user.pk)]
    accounts = [*accounts, str(user.pk)][-DEVICE_COOKIE_MAX_ACCOUNTS:]
    response.set_signed_cookie(
        DEVICE_COOKIE,
        ",".join(accounts),
        salt=DEVICE_COOKIE_SALT,
        max_age=int(DEVICE_COOKIE_MAX_AGE.total_seconds()),
        secure=bool(getattr(settings, "SESSION_COOKIE_SECURE", False)),
        httponly=True,
        samesite="Lax",
    )


class AccountLimitBackend(ModelBackend):
    """Django's password check, behind the account's own limit. A refused try raises
    PermissionDenied (no later backend is asked) and leaves the reason on the request
    as `account_login_refusal` for the sign-in form to show. A wrong password for an
    existing account raises PermissionDenied too, so ModelBackend, listed after this
    backend for the sessions it signed in (citizens, by SMS code), does not hash the
    same password again: to Django both end the same way, a failed sign-in."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        user = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
        if user is None:
            return None  # ModelBackend runs the hasher anyway, so timing tells nothing
        known = login_device_known(request=request, user=user)
        if not known:
            try:
                account_login_attempt(user=user)
            except AccountError as refused:
                if request is not None:
                    request.account_login_refusal = refused  # type: ignore[attr-defined]
                raise PermissionDenied(str(refused.message)) from None
        signed_in = super().authenticate(request, username=username, password=password, **kwargs)
        if signed_in is None:
            raise PermissionDenied("wrong password")
        if not known:
            account_login_succeeded(user=user)
        return signed_in  # type: ignore[return-value]
