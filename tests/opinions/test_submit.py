"""Submitting an opinion from a code page: the form, the SMS code, files, limits.

Given the demo city and a station's or deputy's code, when a citizen posts the form,
then a case is stored whole (text, files, contact) or refused with a message saying
what to fix; a second tap makes no second case; spam is held back."""

from __future__ import annotations

import io
import struct
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from civicloop.core.accounts.models import User
from civicloop.core.attachments.models import Attachment
from civicloop.core.cases.models import Case, TimelineEntry
from civicloop.core.outbox.models import OutboxMessage
from civicloop.opinions.codes import code_issue, code_revoke
from civicloop.opinions.errors import OpinionError
from civicloop.opinions.models import Code, Deputy, Station
from civicloop.opinions.services import OpinionSubmission, opinion_submit
from tests import sms_inbox

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sms_inbox")]

STATION_UNIT = "station-331081100"
PHONE = "13912345678"


# --------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def opinion_settings(settings: Any, tmp_path: Path) -> Iterator[None]:
    """Files on a temporary disk, Chinese messages, and fresh rate-limit counters."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    settings.LANGUAGE_CODE = "zh-hans"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def station_code(demo_city: None) -> Code:
    return code_issue(station=Station.objects.get(unit__code=STATION_UNIT))


@pytest.fixture
def wang() -> Deputy:
    return Deputy.objects.select_related("user", "station__unit").get(user__username="deputy_wang")


@pytest.fixture
def deputy_code(demo_city: None, wang: Deputy) -> Code:
    return code_issue(deputy=wang)


def jpeg_bytes(size: tuple[int, int] = (80, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def jpeg(name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes(), content_type="image/jpeg")


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(
            b"".join(struct.pack("<h", (i * 37) % 2000) for i in range(int(seconds * rate)))
        )
    return out.getvalue()


def wav(name: str = "voice.wav") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, wav_bytes(), content_type="audio/wav")


def request_code(client: Client, slug: str, phone: str = PHONE) -> str:
    """Ask for a code through the endpoint and read it from the phone's SMS inbox."""
    response = client.post(f"/q/{slug}/submit/code/", {"phone": phone})
    assert response.status_code == 200, response.content
    return sms_inbox.last_code(phone)


def form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "category": "road",
        "body": "牧屿村村口路口车流量大，早晚高峰经常堵车，希望增设红绿灯。",
        "phone": PHONE,
        "code": "",
        "contact_name": "陈群众",
        "address": "泽国镇牧屿村村口",
        "submission_key": "k" * 32,
    }
    data.update(overrides)
    return data


def codes_always_right(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any SMS code is taken as right (for tests about something else)."""
    import civicloop.opinions.services as services

    monkeypatch.setattr(services, "sms_code_bind", lambda **kw: kw["phone"])
    monkeypatch.setattr(services, "sms_code_consume", lambda **kw: None)


def submit(client: Client, slug: str, **overrides: Any) -> Any:
    return client.post(f"/q/{slug}/submit/", form_data(**overrides))


def opinions() -> Any:
    return Case.objects.filter(channel="opinion", source="code")


# --------------------------------------------------------------------------- the form


def test_the_form_names_the_receiver_and_carries_a_fresh_submission_key(
    client: Client, deputy_code: Code, wang: Deputy
) -> None:
    first = client.get(f"/q/{deputy_code.slug}/submit/")
    second = client.get(f"/q/{deputy_code.slug}/submit/")
    assert first.status_code == 200
    page = first.content.decode()
    assert wang.name in page and "获取验证码" in page and 'accept="audio/*"' in page
    assert 'name="submission_key"' in page
    assert first.context["form"]["submission_key"].value() != (
        second.context["form"]["submission_key"].value()
    )


def test_an_unknown_code_is_404(client: Client, demo_city: None) -> None:
    assert client.get("/q/nosuchcode/submit/").status_code == 404


def test_the_code_endpoint_sends_one_code_a_minute(client: Client, station_code: Code) -> None:
    request_code(client, station_code.slug)
    again = client.post(f"/q/{station_code.slug}/submit/code/", {"phone": PHONE})
    assert again.status_code == 429
    assert again.json()["retry_after"] > 0
    bad = client.post(f"/q/{station_code.slug}/submit/code/", {"phone": "12345"})
    assert bad.status_code == 400 and "手机号" in bad.json()["message"]


@pytest.mark.parametrize(("lat", "lng"), [("0", "0"), ("-33.868800", "151.209300")])
def test_a_location_outside_the_city_is_refused_and_nothing_is_stored(
    client: Client, deputy_code: Code, lat: str, lng: str
) -> None:
    """Given a phone whose GPS answers 0,0 (or a reading from Sydney), when the citizen
    submits, then the form says the place is outside the city and no case is stored."""
    code = request_code(client, deputy_code.slug)
    response = client.post(f"/q/{deputy_code.slug}/submit/", form_data(code=code, lat=lat, lng=lng))
    assert response.status_code == 400
    assert "不在本市范围内" in str(response.context["form"].errors["address"])
    assert not opinions().exists()


# --------------------------------------------------------------------------- success


def test_a_deputy_code_submission_lands_in_the_deputys_inbox_whole(
    client: Client, deputy_code: Code, wang: Deputy
) -> None:
    code = request_code(client, deputy_code.slug)
    response = client.post(
        f"/q/{deputy_code.slug}/submit/",
        {
            **form_data(code=code, lat="28.390000", lng="121.370000"),
            "photos": [jpeg(), jpeg("b.jpg")],
            "voice": wav(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    case = opinions().get()
    assert response["Location"] == f"/opinions/submitted/{case.number}/"
    assert case.number.startswith("MY-")
    assert case.owner_unit == wang.station.unit and case.holder_user == wang.user
    assert case.category == "road" and case.contact_phone == PHONE
    assert case.data["deputy_id"] == wang.pk and case.data["code"] == deputy_code.slug
    assert str(case.lat) == "28.390000" and case.address == "泽国镇牧屿村村口"
    submit_entry = TimelineEntry.objects.get(case=case, action="submit")
    kinds = sorted(a.kind for a in submit_entry.attachments.all())
    assert kinds == ["photo", "photo", "voice"]
    ack = OutboxMessage.objects.get(template="case_received", reference=case.number)
    assert ack.payload["params"]["number"] == case.number
    receipt = client.get(response["Location"])
    assert case.number in receipt.content.decode() and "短信" in receipt.content.decode()
    # Somebody else's browser cannot read the receipt.
    assert Client().get(response["Location"]).status_code == 404


def test_a_station_code_submission_goes_to_the_station_without_a_deputy(
    client: Client, station_code: Code
) -> None:
    code = request_code(client, station_code.slug)
    assert submit(client, station_code.slug, code=code).status_code == 302
    case = opinions().get()
    assert case.owner_unit.code == STATION_UNIT and case.holder_user is None
    assert "deputy_id" not in case.data
    assert case.area == case.owner_unit.area


def test_a_revoked_deputy_code_reaches_the_station(
    client: Client, deputy_code: Code, wang: Deputy
) -> None:
    code_revoke(code=deputy_code, reason="代表换届")
    page = client.get(f"/q/{deputy_code.slug}/submit/").content.decode()
    assert "已停用" in page
    code = request_code(client, deputy_code.slug)
    assert submit(client, deputy_code.slug, code=code).status_code == 302
    case = opinions().get()
    assert case.owner_unit == wang.station.unit and case.holder_user is None


# --------------------------------------------------------------------------- refusals


def test_no_code_is_refused_and_nothing_is_stored(client: Client, station_code: Code) -> None:
    response = submit(client, station_code.slug, code="")
    assert response.status_code == 400
    assert "验证码" in str(response.context["form"].errors["code"])
    assert not opinions().exists()


def test_a_wrong_code_is_refused(client: Client, station_code: Code) -> None:
    code = request_code(client, station_code.slug)
    wrong = "000000" if code != "000000" else "111111"
    response = submit(client, station_code.slug, code=wrong)
    assert response.status_code == 400
    assert "验证码不正确" in response.content.decode()
    assert not opinions().exists()


def test_a_code_for_another_phone_is_refused(client: Client, station_code: Code) -> None:
    code = request_code(client, station_code.slug, phone="13900000001")
    response = submit(client, station_code.slug, code=code, phone="13900000002")
    assert response.status_code == 400 and not opinions().exists()


def test_missing_text_or_category_and_too_long_text_are_refused(
    client: Client, station_code: Code
) -> None:
    response = submit(client, station_code.slug, body="", category="")
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "body" in errors and "category" in errors
    long = submit(client, station_code.slug, body="长" * 2001)
    assert long.status_code == 400 and "2000" in str(long.context["form"].errors["body"])
    assert submit(client, station_code.slug, category="weather").status_code == 400
    assert not opinions().exists()


def test_a_lying_file_is_refused_with_the_text_kept_and_no_half_case(
    client: Client, station_code: Code
) -> None:
    code = request_code(client, station_code.slug)
    liar = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not a photo at all" * 20, "image/jpeg")
    before = Attachment.objects.count()
    response = client.post(
        f"/q/{station_code.slug}/submit/",
        {**form_data(code=code), "photos": [jpeg(), liar]},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "牧屿村村口路口车流量大" in page  # the text is kept
    assert response.context["form"].errors["photos"]
    assert not opinions().exists()
    assert Attachment.objects.count() == before
    # The same rendered form, photo fixed, goes through without a new SMS code.
    again = client.post(
        f"/q/{station_code.slug}/submit/", {**form_data(code=""), "photos": [jpeg()]}
    )
    assert again.status_code == 302
    assert opinions().count() == 1


def test_ten_photos_are_refused(client: Client, station_code: Code) -> None:
    code = request_code(client, station_code.slug)
    response = client.post(
        f"/q/{station_code.slug}/submit/",
        {**form_data(code=code), "photos": [jpeg(f"p{i}.jpg") for i in range(10)]},
    )
    assert response.status_code == 400
    assert "9" in str(response.context["form"].errors["photos"])
    assert not opinions().exists()


def test_an_oversize_photo_is_refused(settings: Any, client: Client, station_code: Code) -> None:
    settings.ATTACHMENT_MAX_BYTES = 2000
    code = request_code(client, station_code.slug)
    big = SimpleUploadedFile("big.jpg", jpeg_bytes((400, 400)) + b"\0" * 3000, "image/jpeg")
    response = client.post(
        f"/q/{station_code.slug}/submit/", {**form_data(code=code), "photos": [big]}
    )
    assert response.status_code == 400
    assert "过大" in str(response.context["form"].errors["photos"])
    assert not opinions().exists()


def test_a_photo_given_as_voice_is_refused_on_the_voice_field(
    client: Client, station_code: Code
) -> None:
    code = request_code(client, station_code.slug)
    response = client.post(
        f"/q/{station_code.slug}/submit/",
        {**form_data(code=code), "voice": SimpleUploadedFile("v.wav", jpeg_bytes(), "audio/wav")},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["voice"]
    assert not opinions().exists()


def test_a_failure_after_the_files_leaves_no_attachment_row(
    monkeypatch: pytest.MonkeyPatch, client: Client, station_code: Code
) -> None:
    import civicloop.opinions.services as services

    def broken(**_kwargs: Any) -> Case:
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "case_submit", broken)
    code = request_code(client, station_code.slug)
    before = Attachment.objects.count()
    client.raise_request_exception = False
    response = client.post(
        f"/q/{station_code.slug}/submit/", {**form_data(code=code), "photos": [jpeg()]}
    )
    assert response.status_code == 500
    assert Attachment.objects.count() == before
    assert not opinions().exists()


# --------------------------------------------------------------------------- once only


def test_a_second_tap_makes_no_second_case(client: Client, station_code: Code) -> None:
    code = request_code(client, station_code.slug)
    first = client.post(
        f"/q/{station_code.slug}/submit/", {**form_data(code=code), "photos": [jpeg()]}
    )
    second = client.post(
        f"/q/{station_code.slug}/submit/", {**form_data(code=code), "photos": [jpeg()]}
    )
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert opinions().count() == 1
    number = opinions().get().number
    assert OutboxMessage.objects.filter(template="case_received", reference=number).count() == 1


def test_a_submission_key_cannot_be_reused_by_another_phone(
    monkeypatch: pytest.MonkeyPatch, station_code: Code
) -> None:
    codes_always_right(monkeypatch)
    base = OpinionSubmission(
        slug=station_code.slug, body="路灯不亮", phone=PHONE, code="123456", submission_key="x" * 32
    )
    opinion_submit(submission=base)
    base.phone = "13900000009"
    with pytest.raises(OpinionError):
        opinion_submit(submission=base)


# --------------------------------------------------------------------------- rate limits


def test_per_phone_rate_limit_answers_429(
    settings: Any, monkeypatch: pytest.MonkeyPatch, client: Client, station_code: Code
) -> None:
    settings.OPINION_SUBMISSIONS_PER_PHONE_PER_HOUR = 2
    codes_always_right(monkeypatch)
    for i in range(2):
        assert (
            submit(client, station_code.slug, code="123456", submission_key=f"key{i}").status_code
            == 302
        )
    refused = submit(client, station_code.slug, code="123456", submission_key="key9")
    assert refused.status_code == 429
    assert "频繁" in refused.content.decode() and refused["Retry-After"]
    assert opinions().count() == 2
    # Another phone is not held back.
    assert (
        submit(
            client, station_code.slug, code="1", phone="13900000003", submission_key="o"
        ).status_code
        == 302
    )


def test_per_ip_rate_limit_answers_429(
    settings: Any, monkeypatch: pytest.MonkeyPatch, client: Client, station_code: Code
) -> None:
    settings.OPINION_SUBMISSIONS_PER_IP_PER_HOUR = 3
    codes_always_right(monkeypatch)
    for i in range(3):
        ok = submit(
            client, station_code.slug, code="1", phone=f"1390000010{i}", submission_key=f"ip{i}"
        )
        assert ok.status_code == 302
    refused = submit(client, station_code.slug, code="1", phone="13900000109", submission_key="ip9")
    assert refused.status_code == 429
    other = Client(REMOTE_ADDR="10.0.0.8")
    assert (
        submit(
            other, station_code.slug, code="1", phone="13900000109", submission_key="ip9"
        ).status_code
        == 302
    )


def test_the_no_javascript_code_button_keeps_the_text(client: Client, station_code: Code) -> None:
    response = client.post(f"/q/{station_code.slug}/submit/", {**form_data(), "send_code": "1"})
    assert response.status_code == 200
    assert "牧屿村村口路口车流量大" in response.content.decode()
    assert sms_inbox.last_code(PHONE)
    assert not opinions().exists()


def test_anonymous_flag_is_stored(client: Client, station_code: Code) -> None:
    code = request_code(client, station_code.slug)
    assert submit(client, station_code.slug, code=code, anonymous="on").status_code == 302
    assert opinions().get().anonymous is True
    assert User.objects.filter(is_citizen=True).count() == 0  # no account is needed


# --------------------------------------------------------------------------- crash safety


def test_a_crash_before_the_case_commits_leaves_the_code_good(
    monkeypatch: pytest.MonkeyPatch, client: Client, station_code: Code
) -> None:
    """Given a right code, when the server fails before the case commits, then the code
    is not used up: the citizen sends the same form with the same code and it is stored."""
    import civicloop.opinions.services as services

    code = request_code(client, station_code.slug)
    real_case_submit = services.case_submit

    def crash(**_kwargs: Any) -> Case:
        raise RuntimeError("killed")

    monkeypatch.setattr(services, "case_submit", crash)
    client.raise_request_exception = False
    assert submit(client, station_code.slug, code=code).status_code == 500
    assert not opinions().exists()

    monkeypatch.setattr(services, "case_submit", real_case_submit)
    again = submit(client, station_code.slug, code=code)
    assert again.status_code == 302
    assert opinions().count() == 1


def test_a_tap_racing_the_first_gets_the_first_case_not_a_code_error(
    monkeypatch: pytest.MonkeyPatch, station_code: Code
) -> None:
    """Given two taps of one form, when the first stores the case (using the code) while
    the second is past its check for an earlier case, then the second returns the first
    case instead of refusing the used code."""
    import civicloop.opinions.services as services
    from civicloop.core.accounts.services import sms_code_issue

    phone, code = sms_code_issue(phone=PHONE, ip=None, purpose=services.SUBMIT_PURPOSE)
    tap = OpinionSubmission(
        slug=station_code.slug, body="路灯不亮", phone=phone, code=code, submission_key="r" * 32
    )
    real_bind = services.sms_code_bind

    def first_tap_lands_meanwhile(**kwargs: Any) -> str:
        monkeypatch.setattr(services, "sms_code_bind", real_bind)
        first.append(opinion_submit(submission=tap))
        return real_bind(**kwargs)

    first: list[Case] = []
    monkeypatch.setattr(services, "sms_code_bind", first_tap_lands_meanwhile)
    second = opinion_submit(submission=tap)
    assert second.pk == first[0].pk
    assert opinions().count() == 1
