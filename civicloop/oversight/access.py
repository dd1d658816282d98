"""Who is who in 督政议事, from a user's standing: the 代表工委's staff (who run topics
and meetings), deputies (who propose, ask and vote) and departments (who answer).

`access_*_by_*` fetch an object and enforce permission in one step, so no view or API
handler can forget the check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from civicloop.core.accounts.roles import Role
from civicloop.core.units.selectors import Standing, user_standing

DEPUTY_ROLE = "deputy"
# The roles that act for a department or town office on its cases.
UNIT_ROLES = frozenset({Role.HANDLER, Role.UNIT_LEADER})
ANSWERING_KINDS = ("department", "town_office")


def staff_unit_code() -> str:
    return str(getattr(settings, "OVERSIGHT_STAFF_UNIT", "dept-npc-deputies"))


@dataclass(frozen=True)
class OversightRole:
    """What a user may do here; several may hold (a deputy who is also staff)."""

    staff: bool
    deputy: bool
    unit_ids: frozenset[int]  # the departments / town offices they answer for

    @property
    def any(self) -> bool:
        return self.staff or self.deputy or bool(self.unit_ids)


def oversight_role_of(standing: Standing) -> OversightRole | None:
    """The user's parts in 督政议事, or None when they have none (no query: the standing
    holds the units, roles and kinds)."""
    office = staff_unit_code()
    staff = standing.is_admin or standing.in_unit_coded(office)
    deputy = any(DEPUTY_ROLE in roles for roles in standing.unit_roles.values())
    # The 代表工委 is a department too, but it runs the meetings rather than answers.
    unit_ids = frozenset(
        pk
        for pk, roles in standing.unit_roles.items()
        if roles & UNIT_ROLES
        and standing.unit_info.get(pk, ("", ""))[1] in ANSWERING_KINDS
        and standing.unit_info[pk][0] != office
    )
    role = OversightRole(staff=staff, deputy=deputy, unit_ids=unit_ids)
    return role if role.any else None


def role_for(user: Any) -> OversightRole:
    """The user's parts (all false for someone with none)."""
    return oversight_role_of(user_standing(user)) or OversightRole(False, False, frozenset())
