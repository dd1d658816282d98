"""Who may see which case. Every view and API handler scopes its queries through here.

`cases_visible_to` is the one helper that scopes a case queryset by the user's units and
areas; `access_case_by_number` fetches a case and enforces it in one step, so no view can
forget the check.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from civicloop.core.accounts.models import PersonalDataAccess
from civicloop.core.cases.models import Case, CaseStep
from civicloop.core.units.selectors import user_standing


def cases_visible_to(user: Any, qs: QuerySet[Case] | None = None) -> QuerySet[Case]:
    """Cases the user may see: admins all; unit staff what their units own, hold or held;
    leaders their areas' subtrees; a citizen what they submitted or sent from their
    verified phone."""
    qs = Case.objects.all() if qs is None else qs
    standing = user_standing(user)
    if standing.user_id is None:
        return qs.none()
    if standing.is_admin:
        return qs
    cond: Q = Q(submitter_id=standing.user_id)
    if standing.citizen_phone_digest:
        # A citizen signed in with an SMS code owns what was sent from that phone.
        cond |= Q(contact_phone_digest=standing.citizen_phone_digest)
    units = standing.unit_ids
    if units:
        handled = CaseStep.objects.filter(case_id=OuterRef("pk"), unit_id__in=units)
        cond |= Q(owner_unit_id__in=units) | Q(holder_unit_id__in=units) | Q(Exists(handled))
    for path in standing.area_paths:
        cond |= Q(area_path=path) | Q(area_path__startswith=path + "/")
    return qs.filter(cond)


def access_case_by_number(user: Any, number: str) -> Case:
    """Fetch a case the user may see, or raise Http404 (never reveal that it exists)."""
    try:
        return (
            cases_visible_to(user)
            .select_related("area", "owner_unit", "holder_unit", "holder_user")
            .get(number=number)
        )
    except Case.DoesNotExist:
        raise Http404("case not found") from None


def may_see_contact(user: Any, case: Case) -> bool:
    """Whether the user may see the submitter's contact unmasked.

    The receiving unit (the deputy, the station) and admins may; a handling unit only
    when the submitter did not ask to stay anonymous to handling units."""
    standing = user_standing(user)
    if standing.is_admin or standing.has_role_in(case.owner_unit_id):
        return True
    if case.anonymous:
        return False
    return standing.has_role_in(case.holder_unit_id)


def contact_reveal(*, user: Any, case: Case, purpose: str = "") -> dict[str, str]:
    """Return the unmasked contact and log the read (principle 5). Raises PermissionError."""
    if not may_see_contact(user, case):
        raise PermissionError("not allowed to see this contact")
    PersonalDataAccess.objects.create(
        user=user,
        object_type="case",
        object_id=case.number,
        fields="contact_name,contact_phone",
        purpose=purpose,
    )
    return {"name": case.contact_name, "phone": case.contact_phone}
