"""HTTP ways in: the Hikvision ISAPI push and our JSON form. Thin: check the size, parse,
call `sightings_record` (or `camera_heartbeat_record` for an ISAPI alert that is no plate
read), answer. Bad input is a 4xx with a JSON reason, never a 500."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from civicloop.core.accounts.services import api_key_authenticate
from civicloop.core.client_ip import client_ip
from civicloop.firelane.errors import IntakeError, IntakeReason
from civicloop.firelane.intake.events import CameraEvent, Outcome, RecordOutcome
from civicloop.firelane.intake.isapi import Heartbeat, Part, isapi_parts_parse
from civicloop.firelane.intake.jsonapi import json_event_parse
from civicloop.firelane.intake.services import (
    RefusalNote,
    camera_heartbeat_record,
    intake_refusals_count,
    sightings_record,
)

logger = logging.getLogger(__name__)


def _refused(*, source: str, serial: str, error: IntakeError) -> JsonResponse:
    intake_refusals_count(notes=[RefusalNote(source, error.reason, serial, error.detail)])
    return JsonResponse(
        {"status": "refused", "reason": str(error.reason), "detail": error.detail},
        status=error.status,
    )


def _answer(outcome: RecordOutcome) -> JsonResponse:
    body: dict[str, object] = {"status": str(outcome.outcome), "event_key": outcome.event_key}
    if outcome.outcome is Outcome.REFUSED:
        body.update(reason=outcome.reason, detail=outcome.detail)
    elif outcome.outcome is not Outcome.HEARTBEAT:
        body["sighting"] = outcome.sighting_id
    return JsonResponse(body, status=outcome.http_status)


def _check_length(request: HttpRequest) -> None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError as exc:
        raise IntakeError(IntakeReason.MALFORMED, "bad Content-Length") from exc
    if length > settings.FIRELANE_INTAKE_MAX_BYTES:
        raise IntakeError(IntakeReason.TOO_LARGE, f"{length} bytes")


def _isapi_parts(request: HttpRequest) -> list[Part]:
    """The parts of a multipart push, or the whole body as one part: heartbeats and other
    alerts come as a plain application/xml body."""
    if (request.content_type or "").startswith("multipart/"):
        return _multipart_parts(request)
    try:
        body = request.body
    except RequestDataTooBig as exc:
        raise IntakeError(IntakeReason.TOO_LARGE, "body too large") from exc
    return [Part("", "", request.content_type or "", body)]


def _multipart_parts(request: HttpRequest) -> list[Part]:
    # Django's parser. For a camera's 80 KB push it costs ~0.3 ms of CPU, ~6 % of the whole
    # push (bench/isapi_multipart.py); a splitter of our own saved ~0.25 ms of that, too
    # little to keep a second multipart parser and its edge cases.
    try:
        fields, files = request.POST, request.FILES
    except RequestDataTooBig as exc:
        raise IntakeError(IntakeReason.TOO_LARGE, "body too large") from exc
    except (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent, SuspiciousOperation) as exc:
        raise IntakeError(IntakeReason.MALFORMED, f"bad multipart body: {exc}") from exc
    parts: list[Part] = []
    # Parts without a file name arrive as text fields (firmware differs on that).
    for name, values in fields.lists():
        parts.extend(Part(name, "", "text/xml", v.encode()) for v in values)
    for name, uploads in files.lists():
        for upload in uploads:
            data = upload.read()
            if len(data) > settings.FIRELANE_INTAKE_MAX_BYTES:
                raise IntakeError(IntakeReason.TOO_LARGE, f"part {name[:40]}")
            parts.append(Part(name, upload.name or "", upload.content_type or "", data))
    return parts


@csrf_exempt
@require_POST
def isapi_push(request: HttpRequest, serial: str) -> JsonResponse:
    """POST /intake/isapi/<serial>/: one alert from the Hikvision camera `serial`: an ANPR
    read is recorded; any other alert (heartbeat, motion ...) marks the camera alive."""
    alert: CameraEvent | Heartbeat
    try:
        _check_length(request)
        alert = isapi_parts_parse(serial=serial, parts=_isapi_parts(request))
    except IntakeError as error:
        return _refused(source="isapi", serial=serial, error=error)
    # The camera's own address, also behind our reverse proxies (TRUSTED_PROXIES); an
    # unusable address is given as "" so the allowlist refuses it rather than skipping.
    remote_addr = client_ip(request) or ""
    if isinstance(alert, Heartbeat):
        return _answer(
            camera_heartbeat_record(serial=serial, source="isapi", remote_addr=remote_addr)
        )
    return _answer(sightings_record(events=[alert], remote_addr=remote_addr)[0])


@csrf_exempt
@require_POST
def json_event_push(request: HttpRequest) -> JsonResponse:
    """POST /intake/events/: one event in our JSON form, with `Authorization: Bearer <key>`."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or api_key_authenticate(raw=token.strip() or None) is None:
        return _refused(
            source="api",
            serial="",
            error=IntakeError(IntakeReason.UNAUTHORIZED, "missing or invalid API key"),
        )
    try:
        _check_length(request)
        event = json_event_parse(body=request.body)
    except RequestDataTooBig:
        return _refused(source="api", serial="", error=IntakeError(IntakeReason.TOO_LARGE, "body"))
    except IntakeError as error:
        return _refused(source="api", serial="", error=error)
    # The API key stands for the sender; the camera's address list is for direct pushes.
    return _answer(sightings_record(events=[event], remote_addr=None)[0])
