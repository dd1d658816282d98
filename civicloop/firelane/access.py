"""Who may see and do what in 生命通道.

- Officers (执法人员, unit leaders) of a site's enforcement unit review evidence and
  issue notices for that unit's sites, and see their dashboard.
- Staff of a site's managing unit (物业) see their own sites' dashboard.
- Area leaders see the sites in their areas; administrators see everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from civicloop.core.accounts.roles import Role
from civicloop.core.units.selectors import user_standing
from civicloop.firelane.hooks import OFFICER
from civicloop.firelane.models import Site

REVIEW_ROLES = frozenset({OFFICER.code, Role.UNIT_LEADER})


@dataclass(frozen=True)
class FirelaneScope:
    is_admin: bool
    review_unit_ids: frozenset[int]
    site_unit_ids: frozenset[int]
    area_paths: tuple[str, ...]

    @property
    def can_review(self) -> bool:
        return self.is_admin or bool(self.review_unit_ids)

    @property
    def can_view(self) -> bool:
        return self.can_review or bool(self.site_unit_ids) or bool(self.area_paths)

    def sites(self) -> QuerySet[Site]:
        """The sites this scope may see."""
        if self.is_admin:
            return Site.objects.all()
        q = Q(enforcement_unit_id__in=self.review_unit_ids) | Q(unit_id__in=self.site_unit_ids)
        for path in self.area_paths:
            q |= Q(area__path__startswith=path)
        return Site.objects.filter(q)

    def review_sites(self) -> QuerySet[Site]:
        """The sites whose cases this scope reviews."""
        if self.is_admin:
            return Site.objects.all()
        return Site.objects.filter(enforcement_unit_id__in=self.review_unit_ids)

    def reviews_site(self, site: Site) -> bool:
        return self.is_admin or site.enforcement_unit_id in self.review_unit_ids


def firelane_scope_for(*, user: Any) -> FirelaneScope:
    if user is None or not getattr(user, "is_authenticated", False):
        return FirelaneScope(False, frozenset(), frozenset(), ())
    standing = user_standing(user)
    review = frozenset(
        pk
        for pk in Site.objects.order_by().values_list("enforcement_unit_id", flat=True).distinct()
        if standing.has_role_in(pk, *REVIEW_ROLES)
    )
    managed = frozenset(
        pk
        for pk in Site.objects.order_by().values_list("unit_id", flat=True).distinct()
        if standing.has_role_in(pk)
    )
    return FirelaneScope(standing.is_admin, review, managed, standing.area_paths)
