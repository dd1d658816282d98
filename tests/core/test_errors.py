"""One way to refuse: every domain's refusals have a code, a message and a kind, and the
API, Open311 and the web answer them from the one map (core.errors.REFUSAL_STATUS)."""

from __future__ import annotations

import importlib
import inspect
from enum import StrEnum
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from civicloop.api.errors import MESSAGES as API_MESSAGES
from civicloop.api.errors import ApiErrorCode
from civicloop.config.urls import urlpatterns as site_urlpatterns
from civicloop.core.accounts.models import User
from civicloop.core.cases.errors import CaseError, CaseErrorCode
from civicloop.core.errors import REFUSAL_STATUS, DomainError, Refusal

# Each domain's errors module; each must hold exactly one base (a direct DomainError).
DOMAIN_ERRORS = (
    "civicloop.core.cases.errors",
    "civicloop.core.attachments.errors",
    "civicloop.core.accounts.errors",
    "civicloop.core.areas.errors",
    "civicloop.core.ratelimit",
    "civicloop.api.errors",
    "civicloop.opinions.errors",
    "civicloop.firelane.errors",
)


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


def _concrete_errors() -> list[type[DomainError]]:
    for name in DOMAIN_ERRORS:
        importlib.import_module(name)
    return [c for c in _subclasses(DomainError) if "codes" in vars(c)]


class Probe(StrEnum):
    """One code of each kind of refusal, for the answers below."""

    INVALID = "invalid"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    TOO_LARGE = "too_large"
    UNPROCESSABLE = "unprocessable"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"


class ProbeError(DomainError):
    codes = Probe
    messages = dict.fromkeys(Probe, _("请求过于频繁，请稍后再试。"))  # has an English msgstr
    refusals = {code: Refusal(code.value) for code in Probe}


# --------------------------------------------------------------------------- the contract


@pytest.mark.parametrize("module", DOMAIN_ERRORS)
def test_each_domain_has_one_error_base(module: str) -> None:
    """Given a domain's errors module, then exactly one class in it derives directly from
    DomainError: the domain's one base."""
    classes = inspect.getmembers(importlib.import_module(module), inspect.isclass)
    bases = [c for _n, c in classes if c.__module__ == module and DomainError in c.__bases__]
    assert len(bases) == 1, bases


def test_every_code_has_a_message_and_a_kind() -> None:
    """Given every refusal class of the code base, then its codes are a StrEnum, every
    code has a message, and every kind it names has an HTTP status."""
    errors = _concrete_errors()
    assert {e.__name__ for e in errors} >= {"CaseError", "ApiError", "OpinionError", "LaneError"}
    for error in errors:
        assert issubclass(error.codes, StrEnum), error
        for code in error.codes:
            assert str(error.messages[code]), (error, code)
            assert error.refusals.get(code, Refusal.INVALID) in REFUSAL_STATUS, (error, code)
        assert set(error.refusals) <= set(error.codes), error


def test_the_message_is_rendered_in_the_language_of_its_reader() -> None:
    """Given a refusal raised in Chinese, when it is read in English, then it is English;
    its %-params are filled in either language."""
    with translation.override("zh-hans"):
        error = CaseError(CaseErrorCode.FORBIDDEN)
        too_long = ProbeError(Probe.INVALID, _("内容过长（最多 %(max)d 字）。"), max=7)
    with translation.override("en"):
        assert error.message == str(_("您没有权限执行此操作。"))
        assert "7" in too_long.message
    assert str(error) == error.message == "您没有权限执行此操作。"
    assert error.refusal is Refusal.FORBIDDEN and error.status == 403


# --------------------------------------------------------------------------- the API


@pytest.fixture
def admin_client(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser(username="errors-admin", password="x"))
    return client


@pytest.mark.parametrize("kind", list(Refusal))
def test_a_refusal_of_each_kind_reaches_the_api_with_its_status(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch, kind: Refusal
) -> None:
    """Given an API handler that raises a refusal of one kind, when an English client
    asks, then it answers that kind's status with {"code", "detail", "field"}, the detail
    in English."""

    def refuse(**_kwargs: Any) -> None:
        raise ProbeError(Probe(kind.value), field="state")

    monkeypatch.setattr("civicloop.api.api.case_list", refuse)
    response = admin_client.get("/api/v1/cases", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == REFUSAL_STATUS[kind]
    assert response.json() == {
        "code": kind.value,
        "detail": "Too many requests; please try again later.",
        "field": "state",
    }


def test_a_domain_refusal_from_a_real_endpoint_keeps_its_code(db: None, client: Client) -> None:
    """Given an integration's key, when it posts to a channel that does not exist, then
    the answer is 400 unknown_channel, in the language asked for."""
    from civicloop.core.accounts.services import api_key_create

    _key, raw = api_key_create(name="errors test")
    response = client.post(
        "/api/v1/cases",
        {"channel": "nosuch", "body": "x", "address": "泽国镇"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    with translation.override("en"):
        english = str(API_MESSAGES[ApiErrorCode.UNKNOWN_CHANNEL])
    assert english != "没有这个渠道。"
    assert (response.status_code, response.json()) == (
        400,
        {"code": "unknown_channel", "detail": english, "field": "channel"},
    )


# --------------------------------------------------------------------------- the web


def refusing_view(request: HttpRequest) -> HttpResponse:
    raise CaseError(CaseErrorCode.INVALID_STATE)


urlpatterns = [path("test-refuse/", refusing_view), *site_urlpatterns]


@pytest.mark.urls(__name__)
def test_the_web_turns_a_refused_post_into_a_redirect_with_the_message(client: Client) -> None:
    """Given a page whose view raises a refusal, when a form is posted to it, then the
    person is sent back to the same page and the message is shown there."""
    response = client.post("/test-refuse/?tab=1", {"x": "1"})
    assert response.status_code == 302 and response["Location"] == "/test-refuse/?tab=1"
    shown = [str(m) for m in response.wsgi_request._messages]  # type: ignore[attr-defined]
    assert shown == [str(CaseError(CaseErrorCode.INVALID_STATE).message)]


@pytest.mark.urls(__name__)
def test_the_web_answers_a_refused_get_with_a_page_of_its_status(db: None, client: Client) -> None:
    """Given a page whose view raises a refusal, when it is opened, then the answer is a
    page with the message and the status of the refusal's kind (409), not a 500."""
    response = client.get("/test-refuse/")
    assert response.status_code == 409
    assert "事项当前状态下不能执行此操作" in response.content.decode()
