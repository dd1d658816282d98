"""GET /api/v1/cockpit: the cockpit's figures as JSON (a fixed interface).

`area` (an area code; default the reader's widest), `from` and `to` (received days,
YYYY-MM-DD, inclusive; default this year). A staff member with a cockpit (a leader, the
人大常委会, a town's 人大主席团, an administrator) reads their areas; an integration's API
key reads the city. Per channel code and in total: received, open, overdue, due_soon,
closed, closed_on_time, the counts behind the rates, and on_time_close_rate,
on_time_handle_rate, rework_rate and satisfaction_rate as fractions in [0, 1], or null
when their denominator is 0. Definitions: `civicloop.core.cases.rollups`."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from civicloop.cockpit import selectors
from civicloop.core.accounts.api_auth import ApiKeyBearerAuth, StaffSessionAuth
from civicloop.core.accounts.models import ApiKey
from civicloop.core.api_schemas import ErrorOut

router = Router(tags=["cockpit"])


class CockpitQuery(Schema):
    area: str | None = Field(None, description="区划代码（默认：可查看的最大区域）")
    from_: str | None = Field(None, alias="from", description="受理起始日 YYYY-MM-DD")
    to: str | None = Field(None, description="受理截止日 YYYY-MM-DD（含）")


@router.get(
    "",
    response={200: dict[str, Any], 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    auth=[ApiKeyBearerAuth(), StaffSessionAuth()],
    summary="驾驶舱数据",
)
def cockpit_figures_api(request: HttpRequest, q: Query[CockpitQuery]) -> dict[str, Any]:
    reader = request.auth  # type: ignore[attr-defined]
    user = None if isinstance(reader, ApiKey) else reader
    area = selectors.access_area_by_code(user=user, code=q.area)
    now = timezone.now()
    day_from, day_to = selectors.check_range(
        selectors.parse_day(q.from_, field="from"),
        selectors.parse_day(q.to, field="to"),
        today=timezone.localdate(now),
    )
    return selectors.cockpit_figures(area=area, day_from=day_from, day_to=day_to, now=now)
