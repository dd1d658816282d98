"""The roles a person can hold. A staff role is held in a unit (see units.Membership).

Core knows only the roles of the generic loop; a module adds its own (人大代表, 执法人员 ...)
through its ModuleSpec, and every list of roles is read from here."""

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from civicloop.core import registry


class Role(models.TextChoices):
    CITIZEN = "citizen", _("群众")
    HANDLER = "handler", _("经办人")
    UNIT_LEADER = "unit_leader", _("单位负责人")
    LEADER = "leader", _("领导（驾驶舱）")
    ADMIN = "admin", _("管理员")


# Roles that see everything in their areas without holding the case.
OVERSIGHT_ROLES = frozenset({Role.LEADER, Role.ADMIN})


def role_choices() -> list[tuple[str, Any]]:
    """Core's roles and those of the enabled modules, for forms and the admin (labels
    stay lazy: shown in the reader's language)."""
    return [*Role.choices, *((r.code, r.label) for r in registry.roles())]


def unit_roles() -> frozenset[str]:
    """Roles that act for a unit on the cases it holds: handlers, unit leaders, and the
    module roles that say so (`RoleSpec.acts_for_unit`)."""
    return frozenset({Role.HANDLER, Role.UNIT_LEADER}) | {
        r.code for r in registry.roles() if r.acts_for_unit
    }
