"""The web's fallback for a refusal no view answered itself."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from civicloop.core.errors import DomainError, refusal_show


class RefusalMiddleware:
    """Turn a `DomainError` that escaped a page's view into an answer for a person, never
    a 500: after a POST, back to the same page with the message (the form is shown again
    by its GET); on a GET, a page with the message and the status of its kind
    (`core.errors.REFUSAL_STATUS`). The API and Open311 answer their own refusals."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        if request.method == "POST":
            refusal_show(request, exception)
            return HttpResponseRedirect(request.get_full_path())
        return render(
            request, "web/refused.html", {"message": exception.message}, status=exception.status
        )
