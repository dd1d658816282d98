"""The API answers in the language the client asks for with Accept-Language.

Integrations send no language cookie; the header alone decides, Chinese by default.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

View = Callable[..., HttpResponse]


def request_language(request: HttpRequest) -> str:
    """The first supported language in the request's Accept-Language, else the default."""
    header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    for code, _quality in parse_accept_lang_header(header):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return str(settings.LANGUAGE_CODE)


def in_request_language(view: View) -> View:
    """Run the view, and render its messages, in the request's Accept-Language."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = request_language(request)
        with translation.override(language):
            response = view(request, *args, **kwargs)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Accept-Language",))
        return response

    return wrapper


def localize_patterns(
    patterns: list[URLPattern | URLResolver],
) -> list[URLPattern | URLResolver]:
    """Wrap every view of a URL list (e.g. a NinjaAPI's) in `in_request_language`."""
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback = in_request_language(pattern.callback)
        else:
            localize_patterns(pattern.url_patterns)
    return patterns
