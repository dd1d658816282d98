"""The cockpit's figures counted straight from the case tables in plain SQL, written
from the definitions in `civicloop.core.cases.rollups` and never through its code: what
the rollups and the cockpit API are checked against."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone


def _json(field: str, key: str) -> str:
    if connection.vendor == "postgresql":
        return f"({field}->>'{key}')"
    return f"json_extract({field}, '$.{key}')"


def direct_counts(
    *, area_path: str, day_from: date, day_to: date, now: datetime
) -> dict[str, dict[str, int]]:
    """Every figure per channel, counted from the cases in one SQL statement."""
    start = timezone.make_aware(datetime.combine(day_from, datetime.min.time()))
    end = timezone.make_aware(datetime.combine(day_to + timedelta(days=1), datetime.min.time()))
    excluded = (
        "EXISTS (SELECT 1 FROM cases_timelineentry t WHERE t.case_id = c.id AND "
        f"{_json('t.data', 'counts_as')} IN ('extension', 'deferred'))"
    )
    reworked = (
        "EXISTS (SELECT 1 FROM cases_timelineentry t WHERE t.case_id = c.id AND "
        f"{_json('t.data', 'counts_as')} = 'rework')"
    )
    late = (
        "EXISTS (SELECT 1 FROM cases_casestep s WHERE s.case_id = c.id AND "
        "(s.overdue OR s.ended_at > s.due_at))"
    )
    if connection.vendor == "postgresql":
        citizen = "(c.data->'citizen_rating'->>'rating')"
    else:
        citizen = "json_extract(c.data, '$.citizen_rating.rating')"
    rating = f"COALESCE({citizen}, NULLIF(c.rating, ''))"
    # Parameters in the order they appear in the statement.
    params: list[Any] = [now, now, now + timedelta(days=1), start, end]
    where = "c.created_at >= %s AND c.created_at < %s"
    if area_path:
        where += " AND (c.area_path = %s OR c.area_path LIKE %s)"
        params += [area_path, area_path + "/%"]
    sql = f"""
        SELECT c.channel,
          COUNT(*),
          SUM(CASE WHEN c.closed_at IS NOT NULL THEN 1 ELSE 0 END),
          SUM(CASE WHEN c.closed_at IS NOT NULL AND NOT {excluded} AND NOT {late} THEN 1 ELSE 0 END),
          SUM(CASE WHEN {excluded} THEN 1 ELSE 0 END),
          SUM(CASE WHEN {excluded} AND c.closed_at IS NOT NULL THEN 1 ELSE 0 END),
          SUM(CASE WHEN NOT {excluded} AND {late} THEN 1 ELSE 0 END),
          SUM(CASE WHEN NOT {excluded} AND {reworked} THEN 1 ELSE 0 END),
          SUM(CASE WHEN {rating} IS NOT NULL THEN 1 ELSE 0 END),
          SUM(CASE WHEN {rating} IN ('satisfied', 'basically') THEN 1 ELSE 0 END),
          SUM(CASE WHEN c.closed_at IS NULL AND c.due_at <= %s THEN 1 ELSE 0 END),
          SUM(CASE WHEN c.closed_at IS NULL AND c.due_at > %s AND c.due_at <= %s THEN 1 ELSE 0 END)
        FROM cases_case c WHERE {where} GROUP BY c.channel
    """
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    names = (
        "received",
        "closed",
        "closed_on_time",
        "excluded",
        "excluded_closed",
        "late",
        "reworked",
        "rated",
        "satisfied",
        "overdue",
        "due_soon",
    )
    return {row[0]: dict(zip(names, (int(v or 0) for v in row[1:]), strict=True)) for row in rows}
