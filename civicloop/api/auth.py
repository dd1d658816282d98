"""How API clients prove who they are. The classes live in core
(`civicloop.core.accounts.api_auth`) so that modules' routers can use them too."""

from __future__ import annotations

from civicloop.core.accounts.api_auth import ApiKeyBearerAuth, StaffSessionAuth

__all__ = ["ApiKeyBearerAuth", "StaffSessionAuth"]
