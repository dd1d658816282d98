"""How API clients prove who they are: an integration's API key as a Bearer token, or
a staff member's Django session (CSRF-checked on writes).

In core so that every router can name them: the project's API and each module's own
router (modules import core, never `civicloop.api`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from civicloop.core.accounts.models import ApiKey
from civicloop.core.accounts.services import api_key_authenticate
from civicloop.core.units.selectors import user_standing


class ApiKeyBearerAuth(HttpBearer):
    """`Authorization: Bearer <api key>`; the ApiKey is set on `request.auth`."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return api_key_authenticate(raw=token)


class StaffSessionAuth(SessionAuth):
    """A signed-in staff member: a unit member, an area leader or an administrator
    (never a citizen account). Writes need the CSRF token, as in the web UI."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or getattr(user, "is_citizen", False):
            return None
        standing = user_standing(user)
        if standing.is_admin or standing.unit_ids or standing.area_paths:
            return user
        return None
