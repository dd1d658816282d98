"""The roles a person can hold. A staff role is held in a unit (see units.Membership)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CITIZEN = "citizen", _("群众")
    DEPUTY = "deputy", _("人大代表")
    CPPCC = "cppcc", _("政协委员")
    HANDLER = "handler", _("经办人")
    UNIT_LEADER = "unit_leader", _("单位负责人")
    OFFICER = "officer", _("执法人员")
    LEADER = "leader", _("领导（驾驶舱）")
    ADMIN = "admin", _("管理员")


# Roles that act for a unit on the cases it holds.
UNIT_ROLES = frozenset({Role.DEPUTY, Role.CPPCC, Role.HANDLER, Role.UNIT_LEADER, Role.OFFICER})
# Roles that see everything in their areas without holding the case.
OVERSIGHT_ROLES = frozenset({Role.LEADER, Role.ADMIN})
