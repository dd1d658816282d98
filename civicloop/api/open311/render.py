"""GeoReport v2 documents in JSON and XML, with the element names the spec uses."""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse

# The element name of one item of each list in the GeoReport XML shapes.
LIST_ITEM_TAGS = {
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
FORMATS = ("json", "xml")
# Characters XML 1.0 cannot carry; older records might hold them.
XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return XML_INVALID.sub("", str(value))


def _append(parent: ET.Element, tag: str, value: Any) -> None:
    element = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for key, sub in value.items():
            _append(element, key, sub)
    elif isinstance(value, list):
        item_tag = LIST_ITEM_TAGS.get(tag, "item")
        for sub in value:
            _append(element, item_tag, sub)
    else:
        element.text = _text(value)


def xml_document(root: str, value: dict[str, Any] | list[dict[str, Any]], item: str = "") -> bytes:
    """`<root>` holding the dict's keys, or one `<item>` per dict of a list."""
    element = ET.Element(root)
    if isinstance(value, dict):
        for key, sub in value.items():
            _append(element, key, sub)
    else:
        for row in value:
            _append(element, item, row)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def document_response(
    fmt: str,
    value: dict[str, Any] | list[dict[str, Any]],
    *,
    root: str,
    item: str = "",
    status: int = 200,
) -> HttpResponse:
    """The document as JSON or XML (GeoReport's two formats)."""
    if fmt == "xml":
        return HttpResponse(
            xml_document(root, value, item), status=status, content_type="text/xml; charset=utf-8"
        )
    return HttpResponse(
        json.dumps(value, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def errors_response(fmt: str, status: int, description: str) -> HttpResponse:
    """GeoReport's error list: `[{"code": 400, "description": "..."}]` or
    `<errors><error><code>400</code><description>...</description></error></errors>`."""
    return document_response(
        fmt,
        [{"code": status, "description": description}],
        root="errors",
        item="error",
        status=status,
    )
