"""Who a user is, in terms of units and areas. Computed once per request object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from civicloop.core.accounts.roles import Role
from civicloop.core.areas.models import Area
from civicloop.core.units.models import AreaGrant, Membership, Unit


@dataclass(frozen=True)
class Standing:
    """A user's units and roles, and the area subtrees they oversee."""

    user_id: int | None
    is_admin: bool
    unit_roles: dict[int, frozenset[str]]
    area_paths: tuple[str, ...]
    # (code, kind) of each unit in unit_roles, read in the same query.
    unit_info: dict[int, tuple[str, str]] = field(default_factory=dict)
    # A citizen's verified phone (lookup digest): they own what was sent from it.
    citizen_phone_digest: str = ""

    @property
    def unit_ids(self) -> frozenset[int]:
        return frozenset(self.unit_roles)

    def roles(self) -> frozenset[str]:
        out: set[str] = set()
        for r in self.unit_roles.values():
            out |= r
        if self.area_paths:
            out.add(Role.LEADER)
        if self.is_admin:
            out.add(Role.ADMIN)
        return frozenset(out)

    def unit_ids_of_kind(self, kind: str) -> frozenset[int]:
        return frozenset(pk for pk, (_code, k) in self.unit_info.items() if k == kind)

    def in_unit_coded(self, code: str) -> bool:
        return any(c == code for c, _kind in self.unit_info.values())

    def has_role_in(self, unit_id: int | None, *roles: str) -> bool:
        if unit_id is None:
            return False
        held = self.unit_roles.get(unit_id, frozenset())
        return bool(held & set(roles)) if roles else bool(held)

    def submitted(self, *, submitter_id: int | None, contact_phone_digest: str) -> bool:
        """Whether this person raised the case: as its submitter, or as the citizen whose
        verified phone it was sent from."""
        if self.user_id is not None and self.user_id == submitter_id:
            return True
        return bool(self.citizen_phone_digest) and self.citizen_phone_digest == contact_phone_digest

    def oversees_path(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.area_paths)


ANONYMOUS = Standing(user_id=None, is_admin=False, unit_roles={}, area_paths=())


def user_standing(user: Any) -> Standing:
    """The user's standing, cached on the user object for the length of a request."""
    if user is None or not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    cached = getattr(user, "_civicloop_standing", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    unit_roles: dict[int, set[str]] = {}
    unit_info: dict[int, tuple[str, str]] = {}
    for unit_id, role, code, kind in Membership.objects.filter(
        user=user, unit__is_active=True
    ).values_list("unit_id", "role", "unit__code", "unit__kind"):
        unit_roles.setdefault(unit_id, set()).add(role)
        unit_info[unit_id] = (code, kind)
    paths = tuple(
        AreaGrant.objects.filter(user=user).values_list("area__path", flat=True).order_by()
    )
    standing = Standing(
        user_id=user.pk,
        is_admin=bool(user.is_superuser)
        or Membership.objects.filter(user=user, role=Role.ADMIN).exists(),
        unit_roles={k: frozenset(v) for k, v in unit_roles.items()},
        unit_info=unit_info,
        area_paths=paths,
        citizen_phone_digest=user.phone_digest if getattr(user, "is_citizen", False) else "",
    )
    user._civicloop_standing = standing
    return standing


def unit_staff_dingtalk_ids(*, unit: Unit, roles: tuple[str, ...] = ()) -> list[str]:
    qs = Membership.objects.filter(unit=unit).exclude(user__dingtalk_userid="")
    if roles:
        qs = qs.filter(role__in=roles)
    return sorted(set(qs.values_list("user__dingtalk_userid", flat=True)))


def unit_for_area(*, area: Area | None, kinds: tuple[str, ...]) -> Unit | None:
    """The unit of one of `kinds` nearest up the tree from `area` (the area itself first),
    preferring earlier kinds at the same level."""
    if area is None or not kinds:
        return None
    codes = area.path.split("/")
    candidates = list(
        Unit.objects.filter(area__code__in=codes, kind__in=kinds, is_active=True).select_related(
            "area"
        )
    )
    if not candidates:
        return None
    depth = {code: i for i, code in enumerate(codes)}
    candidates.sort(key=lambda u: (-depth[u.area.code], kinds.index(u.kind), u.code))
    return candidates[0]
