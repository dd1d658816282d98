"""Reads about people."""

from __future__ import annotations

from django.db.models import QuerySet

from civicloop.core.accounts.models import User
from civicloop.core.accounts.roles import Role
from civicloop.core.units.models import Membership


def users_sign_in_locked_for(*, actor: User) -> QuerySet[User]:
    """The accounts whose sign-in is locked (`accounts.login_limits`) that `actor` may
    unlock: every one for an admin, else those working in a unit `actor` leads; the
    same rule as services.check_account_unlock_allowed."""
    locked = User.objects.filter(login_locked_at__isnull=False).exclude(pk=actor.pk)
    if actor.is_superuser or Membership.objects.filter(user=actor, role=Role.ADMIN).exists():
        return locked.order_by("username")
    led = Membership.objects.filter(user=actor, role=Role.UNIT_LEADER).values("unit_id")
    members = Membership.objects.filter(unit_id__in=led).values("user_id")
    return locked.filter(pk__in=members).order_by("username")
