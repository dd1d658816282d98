"""Serving a stored file with HTTP range requests (RFC 9110 §14), so a phone's video
player can start anywhere and fetch the file piece by piece.

- `Range: bytes=a-b`, `bytes=a-`, `bytes=-n` → 206 with `Content-Range`;
- a range that starts past the end → 416 with `Content-Range: bytes */size`;
- no Range, a malformed one, several ranges, or an `If-Range` that no longer matches
  → 200 with the whole file (a server may always ignore Range);
- always `Accept-Ranges: bytes`, an ETag, and `nosniff`.
The caller checks access first; this only speaks HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase

CHUNK = 64 * 1024
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class Unsatisfiable(Exception):
    pass


def range_parse(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte of a single-range `Range` header for a file of
    `size` bytes; None to serve the whole file; Unsatisfiable when no byte can be sent."""
    match = _RANGE.match(header or "")
    if match is None:
        return None  # malformed or several ranges: ignored (RFC 9110 §14.2)
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # a suffix: the last n bytes
        length = int(last_text)
        if length == 0 or size == 0:
            raise Unsatisfiable
        return max(size - length, 0), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:
        return None  # invalid: ignored
    if first >= size:
        raise Unsatisfiable
    return first, min(last, size - 1)


def _stream(handle: Any, first: int, length: int) -> Iterator[bytes]:
    try:
        handle.seek(first)
        left = length
        while left > 0:
            chunk = handle.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    finally:
        handle.close()


def file_response(
    request: HttpRequest,
    *,
    field: Any,
    size: int,
    content_type: str,
    etag: str,
    filename: str,
) -> HttpResponseBase:
    """The stored file `field` (a FieldFile of `size` bytes) answered to `request`,
    honouring Range, If-Range and If-None-Match; HEAD gets the headers only."""
    quoted = f'"{etag}"'
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": quoted,
        "Cache-Control": "private, max-age=3600",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="{filename}"',
    }
    if request.headers.get("If-None-Match", "") == quoted:
        not_modified = HttpResponse(status=304)
        for name, value in headers.items():
            not_modified[name] = value
        return not_modified
    wanted: tuple[int, int] | None = None
    range_header = request.headers.get("Range", "")
    if_range = request.headers.get("If-Range", "")
    if range_header and (not if_range or if_range == quoted):
        try:
            wanted = range_parse(range_header, size)
        except Unsatisfiable:
            refused = HttpResponse(status=416)
            for name, value in headers.items():
                refused[name] = value
            refused["Content-Range"] = f"bytes */{size}"
            return refused
    first, last = wanted if wanted is not None else (0, size - 1)
    length = max(last - first + 1, 0)
    if request.method == "HEAD":
        response: HttpResponseBase = HttpResponse(
            status=206 if wanted else 200, content_type=content_type
        )
    else:
        response = StreamingHttpResponse(
            _stream(field.storage.open(field.name, "rb"), first, length),
            status=206 if wanted else 200,
            content_type=content_type,
        )
    for name, value in headers.items():
        response[name] = value
    response["Content-Length"] = str(length)
    if wanted is not None:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    return response
