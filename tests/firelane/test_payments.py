"""Online payment of a fire-lane notice against the loopback Alipay stand-in.

The fake (civicloop/firelane/payments/fake.py) runs a real HTTP server in a thread; the
full flow goes browser -> fake cashier -> fake's notify over real HTTP -> our notify view
on pytest-django's live server. The notice's own bookkeeping (`notice_mark_paid`, which
moves the case to 已缴款) is the real one, wrapped to count its calls.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
import urllib.parse
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.db import connection
from django.urls import include, path
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from civicloop.firelane.payments.fake import FakeAlipay, FakeKeys, fake_keys_generate
from civicloop.firelane.payments.provider import (
    AlipayProvider,
    fen_to_yuan,
    load_private_key,
    public_key_pem,
    rsa2_sign,
    rsa2_verify,
    sign_content,
    yuan_to_fen,
)

# Our endpoints alone (this module is the URLconf): the tests do not depend on the rest of
# the site's URLs, which other parts of the module are still growing.
urlpatterns = [path("", include("civicloop.firelane.payments.urls"))]
pytestmark = pytest.mark.urls(__name__)

NOTIFY_PATH = "/firelane/pay/notify/fake/"
RETURN_PATH = "/firelane/pay/return/"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def keys() -> FakeKeys:
    """Our app's key pair and the fake provider's, generated once per session."""
    return fake_keys_generate()


@pytest.fixture
def pay_settings(settings: Any, tmp_path: Path, keys: FakeKeys) -> Any:
    """PAYMENT_PROVIDER=fake with this session's keys in a keys file of the test's own."""
    path = tmp_path / "payment-fake-keys.json"
    path.write_text(json.dumps(keys.__dict__), encoding="utf-8")
    settings.PAYMENT_PROVIDER = "fake"
    settings.PAYMENT_FAKE_KEYS_FILE = path
    settings.PAYMENT_FAKE_URL = "http://127.0.0.1:9"  # nothing listens unless a fake starts
    settings.ALIPAY_TIMEOUT_SECONDS = 5.0
    return settings


@pytest.fixture
def start_fake(pay_settings: Any, keys: FakeKeys) -> Iterator[Callable[..., FakeAlipay]]:
    """Start a fake provider with the keys our side uses (options as FakeAlipay's)."""
    started: list[FakeAlipay] = []

    def start(**options: Any) -> FakeAlipay:
        options.setdefault("private_key", keys.fake_private_key)
        fake = FakeAlipay(app_id=keys.app_id, app_public_key=keys.app_public_key, **options)
        started.append(fake.start())
        pay_settings.PAYMENT_FAKE_URL = fake.url
        return fake

    yield start
    for fake in started:
        fake.stop()


class PaidSpy:
    """Counts the calls of the on_paid callback; `fail_next` makes the next call raise
    (before doing anything), as a crash in our bookkeeping would."""

    def __init__(self, real: Callable[[Any], None]) -> None:
        self.real = real
        self.calls: list[dict[str, Any]] = []
        self.fail_next = 0

    def __call__(self, payment: Any) -> None:
        self.calls.append(
            {
                "payment": payment.pk,
                "status": payment.status,
                "in_transaction": connection.in_atomic_block,
            }
        )
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("simulated failure of the notice bookkeeping")
        self.real(payment)


@pytest.fixture
def paid_spy(monkeypatch: pytest.MonkeyPatch) -> PaidSpy:
    """The real notice_mark_paid, counted; the views import it at call time, so they get
    the spy too."""
    from civicloop.firelane import notices

    spy = PaidSpy(notices.notice_mark_paid)
    monkeypatch.setattr(notices, "notice_mark_paid", spy)
    return spy


_serial = iter(range(1, 10**6))


def make_notice(*, amount_fen: int = 20000, state: str = "decided") -> Any:
    """A decided notice (处罚决定 made, payable): the case on the firelane channel in
    `state`, with its site, camera, lane and stay (rows built directly: the review and the
    procedure are tested with the notices)."""
    from civicloop.core.accounts.models import User
    from civicloop.core.areas.models import Area
    from civicloop.core.cases.models import Case
    from civicloop.core.cases.services import CaseDraft, case_submit
    from civicloop.core.units.models import Unit
    from civicloop.firelane.models import Camera, Lane, Notice, Site, Stay

    n = next(_serial)
    city, _ = Area.objects.get_or_create(code="331081", defaults={"name": "温岭市", "kind": "city"})
    brigade, _ = Unit.objects.get_or_create(
        code="pay-test-brigade",
        defaults={"name": "温岭市消防救援大队", "kind": "department", "area": city},
    )
    site, _ = Site.objects.get_or_create(
        code="pay-test-site",
        defaults={
            "name": "创业大厦小区",
            "address": "太平街道创业路 1 号",
            "area": city,
            "unit": brigade,
            "enforcement_unit": brigade,
        },
    )
    camera, _ = Camera.objects.get_or_create(
        serial="PAY-CAM-1", defaults={"site": site, "name": "东门", "vendor": "other"}
    )
    lane, _ = Lane.objects.get_or_create(camera=camera, name="东侧消防车通道")
    officer = User.objects.create_user(username=f"pay-officer-{n}")
    case = case_submit(
        draft=CaseDraft(
            channel="firelane",
            title=f"浙J·A{n:04d} 占用消防车通道",
            body="车辆在消防车通道停留超过 30 分钟。",
            area=city,
            owner_unit=brigade,
            source="camera",
        )
    )
    Case.objects.filter(pk=case.pk).update(state=state)
    now = timezone.now()
    stay = Stay.objects.create(
        site=site,
        lane=lane,
        plate=f"浙JA{n:04d}",
        started_at=now - timedelta(minutes=40),
        last_seen_at=now - timedelta(minutes=5),
        case=case,
    )
    return Notice.objects.create(
        case=Case.objects.get(pk=case.pk),
        stay=stay,
        number=f"温消通告〔2026〕{n:06d}号",
        plate=stay.plate,
        site_name=site.name,
        lane_name=lane.name,
        minutes=35,
        legal_basis="《中华人民共和国消防法》第二十八条、第六十条",
        amount_fen=amount_fen,
        delivery=Notice.Delivery.SMS,
        issued_at=now,
        issued_by=officer,
        link_expires_at=now + timedelta(days=30),
        decision_number=f"温消罚决字〔2026〕{n:06d}号",
        decided_at=now,
        decided_by=officer,
        fine_fen=amount_fen,
        pay_due_on=timezone.localdate() + timedelta(days=15),
    )


def pay_query(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def open_and_pay(url: str) -> requests.Response:
    """What the owner's browser does: open the cashier, tap 确认付款. Returns the
    cashier's answer to the tap (a redirect, not followed)."""
    cashier = requests.get(url, timeout=10)
    assert cashier.status_code == 200, cashier.text
    fake_base = url.split("/gateway.do")[0]
    form = {
        "out_trade_no": _hidden(cashier.text, "out_trade_no"),
        "token": _hidden(cashier.text, "token"),
    }
    return requests.post(f"{fake_base}/cashier/pay", data=form, allow_redirects=False, timeout=10)


def _hidden(page: str, name: str) -> str:
    marker = f'name="{name}" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def notify_status(notice: Any) -> tuple[str, int, int]:
    from civicloop.firelane.models import Payment

    payment = Payment.objects.get(notice=notice)
    return payment.status, payment.notify_count, Payment.objects.filter(notice=notice).count()


# --------------------------------------------------------------------------- amounts


@pytest.mark.parametrize(
    ("fen", "yuan"),
    [
        (1, "0.01"),
        (10, "0.10"),
        (99, "0.99"),
        (100, "1.00"),
        (20000, "200.00"),
        (50000, "500.00"),
        (12345, "123.45"),
        (10_000_000_000, "100000000.00"),
    ],
)
def test_fen_and_yuan_convert_exactly_both_ways(fen: int, yuan: str) -> None:
    assert fen_to_yuan(fen) == yuan
    assert yuan_to_fen(yuan) == fen


def test_yuan_with_fewer_decimals_is_still_exact() -> None:
    assert yuan_to_fen("500") == 50000
    assert yuan_to_fen("0.1") == 10
    assert yuan_to_fen("0.01") == 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1.001",
        "-1.00",
        "+1.00",
        "1e2",
        " 1.00",
        "1.00 ",
        "1,00",
        "01.00",
        ".50",
        "1.",
        "０.０１",
        "١.٠٠",
        "NaN",
        "inf",
        "1000000000.00",
    ],
)
def test_yuan_refuses_anything_but_a_plain_amount(text: str) -> None:
    with pytest.raises(ValueError):
        yuan_to_fen(text)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "100"])
def test_fen_refuses_non_integers(bad: Any) -> None:
    with pytest.raises(ValueError):
        fen_to_yuan(bad)


@given(st.integers(min_value=0, max_value=10_000_000_000))
def test_every_amount_survives_the_round_trip(fen: int) -> None:
    assert yuan_to_fen(fen_to_yuan(fen)) == fen


# --------------------------------------------------------------------------- RSA2


def test_sign_content_sorts_skips_empty_and_excluded_keys() -> None:
    params = {"b": "2", "a": "1", "sign": "xx", "sign_type": "RSA2", "c": "", "d": "x=y&z"}
    assert sign_content(params, exclude=("sign", "sign_type")) == "a=1&b=2&d=x=y&z"
    # A request signs sign_type too.
    assert sign_content(params) == "a=1&b=2&d=x=y&z&sign_type=RSA2"
    # What Alipay sends is verified with its empty values.
    assert sign_content(params, exclude=("sign", "sign_type"), keep_empty=True) == (
        "a=1&b=2&c=&d=x=y&z"
    )


def test_signature_round_trip_and_tampering(keys: FakeKeys) -> None:
    content = sign_content({"out_trade_no": "XF1", "total_amount": "200.00", "subject": "罚款"})
    signature = rsa2_sign(content, keys.app_private_key)

    assert rsa2_verify(content, signature, keys.app_public_key)
    assert not rsa2_verify(content.replace("200.00", "200.01"), signature, keys.app_public_key)
    assert not rsa2_verify(content, signature, keys.fake_public_key)  # another key
    assert not rsa2_verify(content, "not base64!!", keys.app_public_key)
    assert not rsa2_verify(content, "", keys.app_public_key)


# Alipay 开放平台 "自行实现签名" (the request example and its 待签名字符串; reproduced e.g. at
# https://juejin.cn/post/6844903816484110349, whose original is alipay.open.taobao.com):
# every parameter but `sign` (sign_type included), empty values dropped, sorted, joined.
# Alipay publishes a `sign` with it but not the key that made it, so no signature of ours
# can be compared with it; the string to sign can, exactly.
ALIPAY_DOC_BIZ_CONTENT = (
    '{"button":[{"actionParam":"ZFB_HFCZ","actionType":"out","name":"话费充值"},'
    '{"name":"查询","subButton":[{"actionParam":"ZFB_YECX","actionType":"out","name":"余额查询"},'
    '{"actionParam":"ZFB_LLCX","actionType":"out","name":"流量查询"},'
    '{"actionParam":"ZFB_HFCX","actionType":"out","name":"话费查询"}]},'
    '{"actionParam":"http://m.alipay.com","actionType":"link","name":"最新优惠"}]}'
)
ALIPAY_DOC_REQUEST = {
    "app_id": "2014072300007148",
    "method": "alipay.mobile.public.menu.add",
    "charset": "GBK",
    "sign_type": "RSA2",
    "timestamp": "2014-07-24 03:07:50",
    "biz_content": ALIPAY_DOC_BIZ_CONTENT,
    "sign": "e9zEAe4TTQ4LPLQvETPoLGXTiURcxiAKfMVQ6Hrrsx2hmyIEGvSfAQzbLxHrhyZ48wOJXTsD4FPnt+YGdK57"
    "+fP1BCbf9rIVycfjhYCqlFhbTu9pFnZgT55W+xbAFb9y7vL0MyAxwXUXvZtQVqEwW7pURtKilbcBTEW7TAxzgro=",
    "version": "1.0",
}
ALIPAY_DOC_REQUEST_TO_SIGN = (
    f"app_id=2014072300007148&biz_content={ALIPAY_DOC_BIZ_CONTENT}&charset=GBK"
    "&method=alipay.mobile.public.menu.add&sign_type=RSA2&timestamp=2014-07-24 03:07:50"
    "&version=1.0"
)

# Alipay 开放平台 "异步返回结果的验签" (the notify example and its 待签名字符串; reproduced e.g.
# at https://blog.csdn.net/qq_39505065/article/details/84429592): drop `sign` and
# `sign_type`, sort the rest, join. The published string leaves out gmt_create although the
# notify carries it and the rule keeps every other parameter (Alipay's SDKs sign it too), so
# the expected string below is the published one with gmt_create in its sorted place.
ALIPAY_DOC_NOTIFY = {
    "total_amount": "2.00",
    "buyer_id": "2088102116773037",
    "body": "大乐透2.1",
    "trade_no": "2016071921001003030200089909",
    "refund_fee": "0.00",
    "notify_time": "2016-07-19 14:10:49",
    "subject": "大乐透2.1",
    "sign_type": "RSA2",
    "charset": "utf-8",
    "notify_type": "trade_status_sync",
    "out_trade_no": "0719141034-6418",
    "gmt_close": "2016-07-19 14:10:46",
    "gmt_payment": "2016-07-19 14:10:47",
    "trade_status": "TRADE_SUCCESS",
    "version": "1.0",
    "sign": "kPbQIjX+xQc8F0/A6/AocELIjhhZnGbcBN6G4MM/HmfWL4ZiHM6fWl5NQhzXJusaklZ1LFuMo+lHQUELAYeug"
    "H8LYFvxnNajOvZhuxNFbN2LhF0l/KL8ANtj8oyPM4NN7Qft2kWJTDJUpQOzCzNnV9hDxh5AaT9FPqRS6ZKxnzM=",
    "gmt_create": "2016-07-19 14:10:44",
    "app_id": "2015102700040153",
    "seller_id": "2088102119685838",
    "notify_id": "4a91b7a78a503640467525113fb7d8bg8e",
}
ALIPAY_DOC_NOTIFY_TO_SIGN = (
    "app_id=2015102700040153&body=大乐透2.1&buyer_id=2088102116773037&charset=utf-8"
    "&gmt_close=2016-07-19 14:10:46&gmt_create=2016-07-19 14:10:44"
    "&gmt_payment=2016-07-19 14:10:47&notify_id=4a91b7a78a503640467525113fb7d8bg8e"
    "&notify_time=2016-07-19 14:10:49&notify_type=trade_status_sync"
    "&out_trade_no=0719141034-6418&refund_fee=0.00&seller_id=2088102119685838"
    "&subject=大乐透2.1&total_amount=2.00&trade_no=2016071921001003030200089909"
    "&trade_status=TRADE_SUCCESS&version=1.0"
)


def _independent_sign(content: str, private_pem: str) -> str:
    """SHA256withRSA (PKCS#1 v1.5), base64: `cryptography` directly, not our helper."""
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    raw = key.sign(content.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode()


def _independent_verify(content: str, signature: str, public_pem: str) -> bool:
    key = serialization.load_pem_public_key(public_pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        key.verify(
            base64.b64decode(signature), content.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        return False
    return True


def _alipay_provider(keys: FakeKeys) -> AlipayProvider:
    return AlipayProvider(
        code="alipay",
        gateway="https://openapi.alipay.com/gateway.do",
        app_id=keys.app_id,
        app_private_key=keys.app_private_key,
        alipay_public_key=keys.fake_public_key,
    )


def test_request_string_to_sign_is_alipays_published_example() -> None:
    assert sign_content(ALIPAY_DOC_REQUEST, exclude=("sign",)) == ALIPAY_DOC_REQUEST_TO_SIGN


def test_notify_string_to_sign_is_alipays_published_example() -> None:
    to_sign = sign_content(ALIPAY_DOC_NOTIFY, exclude=("sign", "sign_type"))
    assert to_sign == ALIPAY_DOC_NOTIFY_TO_SIGN


# The same documented notify as Alipay sends it when a field has no value: the fields of
# the trade that do not apply arrive empty (e.g. `passback_params`, `out_biz_no`). The
# official SDKs (AlipaySignature.getSignCheckContentV1, alipay-sdk-python's
# verify_with_rsa over get_sign_content of the notify) keep them, `key=` in its sorted
# place, so the string to verify is the published one with those two inserted.
ALIPAY_DOC_NOTIFY_WITH_EMPTY = {**ALIPAY_DOC_NOTIFY, "passback_params": "", "out_biz_no": ""}
ALIPAY_DOC_NOTIFY_WITH_EMPTY_TO_SIGN = ALIPAY_DOC_NOTIFY_TO_SIGN.replace(
    "&out_trade_no=0719141034-6418&", "&out_biz_no=&out_trade_no=0719141034-6418&passback_params=&"
)


def test_notify_string_to_verify_keeps_empty_values_as_alipays_sdks_do() -> None:
    # Given the documented notify carrying two empty fields,
    # when the string to verify is built as for what Alipay sends,
    to_verify = sign_content(
        ALIPAY_DOC_NOTIFY_WITH_EMPTY, exclude=("sign", "sign_type"), keep_empty=True
    )
    # then it is the documented string with `out_biz_no=` and `passback_params=` in place,
    assert to_verify == ALIPAY_DOC_NOTIFY_WITH_EMPTY_TO_SIGN
    assert "&out_biz_no=&" in to_verify and "&passback_params=&" in to_verify
    # while a request we sign still drops them.
    assert sign_content(ALIPAY_DOC_NOTIFY_WITH_EMPTY, exclude=("sign", "sign_type")) == (
        ALIPAY_DOC_NOTIFY_TO_SIGN
    )


def test_notify_with_empty_values_is_verified_over_them(keys: FakeKeys) -> None:
    provider = _alipay_provider(keys)
    # Given the documented notify with empty fields, signed independently over every
    # parameter but sign and sign_type, empty values included (as Alipay signs it),
    notify = dict(ALIPAY_DOC_NOTIFY_WITH_EMPTY)
    notify["sign"] = _independent_sign(ALIPAY_DOC_NOTIFY_WITH_EMPTY_TO_SIGN, keys.fake_private_key)
    # then our provider accepts it,
    assert provider.verify_notify(notify)
    assert provider.verify_return(notify)
    # but a signature made with the empty values dropped does not verify over a notify
    # that carries them, nor does an empty field added or removed after signing.
    dropped = {
        **notify,
        "sign": _independent_sign(ALIPAY_DOC_NOTIFY_TO_SIGN, keys.fake_private_key),
    }
    assert not provider.verify_notify(dropped)
    assert not provider.verify_notify({**notify, "fund_bill_list": ""})
    assert not provider.verify_notify({k: v for k, v in notify.items() if k != "out_biz_no"})
    # sign_type is outside the signed string: its value is checked, not signed.
    assert provider.verify_notify({k: v for k, v in notify.items() if k != "sign_type"})


@pytest.mark.django_db
def test_notify_with_empty_fields_is_applied_through_the_view(
    client: Any, started_payment: Any, signer: FakeAlipay, paid_spy: PaidSpy
) -> None:
    # Given a genuine notify of the fake (it carries empty fields, signed with them),
    notify = signer.signed_notify(out_trade_no=started_payment.out_trade_no, total_amount="200.00")
    assert any(value == "" for value in notify.values())
    # when it is POSTed as a form, then it is applied once.
    answer = client.post(NOTIFY_PATH, notify)
    assert (answer.status_code, answer.content) == (200, b"success")
    started_payment.refresh_from_db()
    assert started_payment.status == "paid"
    assert len(paid_spy.calls) == 1


def test_our_rsa2_signature_verifies_with_an_independent_implementation(keys: FakeKeys) -> None:
    # Given Alipay's example string, when our helper signs it,
    signature = rsa2_sign(ALIPAY_DOC_REQUEST_TO_SIGN, keys.app_private_key)
    # then plain `cryptography` verifies it, and not over anything else.
    assert _independent_verify(ALIPAY_DOC_REQUEST_TO_SIGN, signature, keys.app_public_key)
    tampered = ALIPAY_DOC_REQUEST_TO_SIGN.replace("GBK", "UTF-8")
    assert not _independent_verify(tampered, signature, keys.app_public_key)


def test_pay_url_is_signed_over_the_published_rule(keys: FakeKeys) -> None:
    # Given our provider, when it builds a pay URL,
    url = _alipay_provider(keys).pay_url(
        out_trade_no="XF-2026-000001",
        amount_fen=20_000,
        subject="消防通道占用 罚款",
        return_url="https://civicloop.example/firelane/pay/return/",
        notify_url="https://civicloop.example/firelane/pay/notify/alipay/",
    )
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    # then its sign verifies, with plain `cryptography`, over the string the published rule
    # builds (written here again: everything but sign, non-empty, sorted, k=v joined by &).
    to_sign = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "sign" and params[k])
    assert params["sign_type"] == "RSA2"
    assert _independent_verify(to_sign, params["sign"], keys.app_public_key)


def test_notify_signed_independently_over_the_published_example_is_accepted(
    keys: FakeKeys,
) -> None:
    # Given Alipay's example notify signed with plain `cryptography` (the fake's key pair
    # stands in for Alipay's, whose private half is not published),
    notify = dict(ALIPAY_DOC_NOTIFY)
    notify["sign"] = _independent_sign(ALIPAY_DOC_NOTIFY_TO_SIGN, keys.fake_private_key)
    provider = _alipay_provider(keys)
    # then our provider accepts it,
    assert provider.verify_notify(notify)
    # but not with a changed amount, nor with the published sign (another key made it).
    assert not provider.verify_notify({**notify, "total_amount": "200.00"})
    assert not provider.verify_notify(ALIPAY_DOC_NOTIFY)


def test_keys_in_alipay_console_form_bare_base64_work(keys: FakeKeys) -> None:
    """Alipay's key tool and console print keys without PEM armour, on one line."""

    def bare(pem: str) -> str:
        return "".join(line for line in pem.strip().splitlines() if not line.startswith("-----"))

    signature = rsa2_sign("a=1", bare(keys.app_private_key))
    assert rsa2_verify("a=1", signature, bare(keys.app_public_key))
    one_line = keys.app_private_key.replace("\n", "\\n")  # as env files carry PEMs
    assert public_key_pem(one_line) == keys.app_public_key
    with pytest.raises(ValueError):
        load_private_key("not a key")


def test_fake_keys_file_is_created_once_and_private(tmp_path: Path) -> None:
    from civicloop.firelane.payments.fake import fake_keys_load_or_create

    path = tmp_path / "var" / "payment-fake-keys.json"
    first = fake_keys_load_or_create(path=path)
    again = fake_keys_load_or_create(path=path)

    assert first == again
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert public_key_pem(first.fake_private_key) == first.fake_public_key


# --------------------------------------------------------------------------- start


@pytest.mark.django_db
def test_payment_start_returns_a_signed_wap_pay_url(pay_settings: Any, keys: FakeKeys) -> None:
    from civicloop.firelane.models import Payment

    notice = make_notice(amount_fen=20000)

    url = payment_start_for(notice)

    assert url.startswith("http://127.0.0.1:9/gateway.do?")
    params = pay_query(url)
    payment = Payment.objects.get(notice=notice)
    assert payment.status == Payment.Status.CREATED
    assert payment.amount_fen == 20000 and payment.provider == "fake"
    assert {k: params[k] for k in ("method", "app_id", "format", "charset", "sign_type")} == {
        "method": "alipay.trade.wap.pay",
        "app_id": keys.app_id,
        "format": "JSON",
        "charset": "utf-8",
        "sign_type": "RSA2",
    }
    assert params["version"] == "1.0"
    assert params["notify_url"] == "https://civicloop.example/firelane/pay/notify/fake/"
    assert params["return_url"] == "https://civicloop.example/firelane/pay/return/"
    biz = json.loads(params["biz_content"])
    assert biz["out_trade_no"] == payment.out_trade_no
    assert biz["total_amount"] == "200.00"
    assert biz["product_code"] == "QUICK_WAP_WAY"
    assert notice.decision_number in biz["subject"]
    # Signed with our app key over everything but `sign`.
    assert rsa2_verify(sign_content(params), params["sign"], keys.app_public_key)
    assert len(payment.out_trade_no) <= 64 and payment.out_trade_no.isalnum()


def payment_start_for(notice: Any) -> str:
    from civicloop.firelane.payments.services import payment_start

    return payment_start(
        notice=notice,
        return_url="https://civicloop.example/firelane/pay/return/",
        notify_url="https://civicloop.example/firelane/pay/notify/fake/",
    )


@pytest.mark.django_db
def test_a_second_tap_reuses_the_unpaid_payment(pay_settings: Any) -> None:
    from civicloop.firelane.models import Payment

    notice = make_notice(amount_fen=1)

    first, second = payment_start_for(notice), payment_start_for(notice)

    assert Payment.objects.filter(notice=notice).count() == 1
    out_trade_no = Payment.objects.get(notice=notice).out_trade_no
    for url in (first, second):
        biz = json.loads(pay_query(url)["biz_content"])
        assert (biz["out_trade_no"], biz["total_amount"]) == (out_trade_no, "0.01")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "paid_before", "code"),
    [
        ("decided", True, "already_paid"),
        ("paid", False, "already_paid"),
        ("dismissed", False, "case_closed"),
        ("closed", False, "case_closed"),
        ("to_post", False, "not_payable"),
        # The notice of an intended penalty, and a statement under review, are never paid.
        ("noticed", False, "not_payable"),
        ("statement", False, "not_payable"),
    ],
)
def test_payment_start_refuses_a_paid_or_closed_notice(
    pay_settings: Any, state: str, paid_before: bool, code: str
) -> None:
    from civicloop.firelane.models import Payment
    from civicloop.firelane.payments.services import PaymentError

    notice = make_notice(state=state)
    if paid_before:
        notice.paid_at = timezone.now()
        notice.save()

    with pytest.raises(PaymentError) as refused:
        payment_start_for(notice)

    assert refused.value.code == code
    assert refused.value.message
    assert not Payment.objects.filter(notice=notice).exists()


# --------------------------------------------------------------------------- notify (forged)


@pytest.fixture
def started_payment(pay_settings: Any, keys: FakeKeys) -> Any:
    """A notice of 200.00 yuan whose payment was started (not paid)."""
    from civicloop.firelane.models import Payment

    notice = make_notice(amount_fen=20000)
    payment_start_for(notice)
    return Payment.objects.get(notice=notice)


@pytest.fixture
def signer(keys: FakeKeys) -> FakeAlipay:
    """The fake provider's signing, without a server (for notifies built by the test)."""
    return FakeAlipay(
        app_id=keys.app_id, app_public_key=keys.app_public_key, private_key=keys.fake_private_key
    )


def _forged_cases(signer: FakeAlipay, out_trade_no: str) -> dict[str, dict[str, str]]:
    genuine = signer.signed_notify(out_trade_no=out_trade_no, total_amount="200.00")
    amount_changed = {**genuine, "total_amount": "0.01"}
    bad_sign = {**genuine, "sign": base64.b64encode(b"\0" * 256).decode()}
    no_sign = {k: v for k, v in genuine.items() if k != "sign"}
    md5_type = {**genuine, "sign_type": "RSA"}
    return {
        "bad_signature:amount changed after signing": amount_changed,
        "bad_signature:wrong signature": bad_sign,
        "bad_signature:no signature": no_sign,
        "bad_signature:other sign type": md5_type,
        "amount_mismatch:signed but 1 fen short": signer.signed_notify(
            out_trade_no=out_trade_no, total_amount="199.99"
        ),
        "amount_mismatch:signed, amount malformed": signer.signed_notify(
            out_trade_no=out_trade_no, total_amount="200.001"
        ),
        "app_mismatch:signed for another app": signer.signed_notify(
            out_trade_no=out_trade_no, total_amount="200.00", app_id="2021009999999999"
        ),
        "unknown:signed, unknown trade": signer.signed_notify(
            out_trade_no="XF20990101000000ffffffffffff", total_amount="200.00"
        ),
    }


@pytest.mark.django_db
def test_forged_or_tampered_notifies_change_nothing(
    client: Any,
    started_payment: Any,
    signer: FakeAlipay,
    paid_spy: PaidSpy,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from civicloop.firelane.models import Payment
    from civicloop.firelane.payments.services import payment_notify_apply

    for label, params in _forged_cases(signer, started_payment.out_trade_no).items():
        expected = label.split(":")[0]
        caplog.clear()

        answer = client.post(NOTIFY_PATH, params)
        outcome = payment_notify_apply(provider="fake", params=params, on_paid=paid_spy)

        assert (answer.status_code, answer.content) == (400, b"failure"), label
        assert answer["Content-Type"].startswith("text/plain")
        assert outcome == expected, label
        payment = Payment.objects.get(pk=started_payment.pk)
        assert (payment.status, payment.notify_count, payment.last_notify) == ("created", 0, {})
        if expected == "amount_mismatch":
            assert any(
                r.levelno >= logging.ERROR and "AMOUNT MISMATCH" in r.getMessage()
                for r in caplog.records
            ), label
    assert paid_spy.calls == []


@pytest.mark.django_db
def test_bad_input_to_the_notify_view_is_refused_without_a_server_error(
    client: Any, started_payment: Any, signer: FakeAlipay, paid_spy: PaidSpy
) -> None:
    genuine = signer.signed_notify(out_trade_no=started_payment.out_trade_no, total_amount="200.00")

    other_provider = client.post("/firelane/pay/notify/alipay/", genuine)
    unknown_provider = client.post("/firelane/pay/notify/paypal/", genuine)
    json_body = client.post(NOTIFY_PATH, json.dumps(genuine), content_type="application/json")
    empty = client.post(NOTIFY_PATH, {})
    get = client.get(NOTIFY_PATH, genuine)
    huge = client.post(NOTIFY_PATH, {**genuine, "subject": "x" * 10_000})

    for answer in (other_provider, unknown_provider, json_body, empty, huge):
        assert (answer.status_code, answer.content) == (400, b"failure")
    assert get.status_code == 405
    assert paid_spy.calls == []
    started_payment.refresh_from_db()
    assert started_payment.status == "created"


@pytest.mark.django_db
def test_a_genuine_unpaid_status_is_acknowledged_and_changes_nothing(
    client: Any, started_payment: Any, signer: FakeAlipay, paid_spy: PaidSpy
) -> None:
    waiting = signer.signed_notify(
        out_trade_no=started_payment.out_trade_no,
        total_amount="200.00",
        trade_status="WAIT_BUYER_PAY",
    )

    answer = client.post(NOTIFY_PATH, waiting)

    assert answer.content == b"success"
    started_payment.refresh_from_db()
    assert started_payment.status == "created" and paid_spy.calls == []


@pytest.mark.django_db
def test_on_paid_failing_rolls_everything_back_and_a_resend_applies(
    started_payment: Any, signer: FakeAlipay, paid_spy: PaidSpy
) -> None:
    from civicloop.firelane.models import Notice
    from civicloop.firelane.payments.services import payment_notify_apply

    notify = signer.signed_notify(out_trade_no=started_payment.out_trade_no, total_amount="200.00")
    paid_spy.fail_next = 1

    with pytest.raises(RuntimeError):
        payment_notify_apply(provider="fake", params=notify, on_paid=paid_spy)
    started_payment.refresh_from_db()
    assert (started_payment.status, started_payment.notify_count) == ("created", 0)

    again = payment_notify_apply(provider="fake", params=notify, on_paid=paid_spy)
    replay = payment_notify_apply(provider="fake", params=notify, on_paid=paid_spy)

    assert (again, replay) == ("applied", "duplicate")
    assert len(paid_spy.calls) == 2  # the failed one and the applied one
    assert paid_spy.calls[1]["status"] == "paid" and paid_spy.calls[1]["in_transaction"]
    started_payment.refresh_from_db()
    assert started_payment.status == "paid" and started_payment.notify_count == 2
    assert started_payment.provider_trade_no == notify["trade_no"]
    notice = Notice.objects.select_related("case").get(pk=started_payment.notice_id)
    assert notice.paid_at is not None and notice.case.state == "paid"


# --------------------------------------------------------------------------- the fake's checks


@pytest.mark.django_db
def test_the_fake_refuses_requests_not_signed_by_our_app(
    start_fake: Callable[..., FakeAlipay], keys: FakeKeys
) -> None:
    fake = start_fake()
    url = payment_start_for(make_notice(amount_fen=20000))
    params = pay_query(url)

    biz = json.loads(params["biz_content"])
    cheaper = {**params, "biz_content": json.dumps({**biz, "total_amount": "0.01"})}
    other_key = {**params}
    other_key["sign"] = rsa2_sign(
        sign_content({k: v for k, v in params.items()}), keys.fake_private_key
    )
    other_app = {**params, "app_id": "2021009999999999"}

    for forged, code in (
        (cheaper, "isv.invalid-signature"),
        (other_key, "isv.invalid-signature"),
        (other_app, "isv.invalid-app-id"),
    ):
        answer = requests.get(fake.gateway_url, params=forged, timeout=10)
        assert answer.status_code == 400
        assert f'<code id="error-code">{code}</code>' in answer.text
    assert fake.trades() == {}

    cashier = requests.get(url, timeout=10)
    assert cashier.status_code == 200
    assert "¥200.00" in cashier.text and "确认付款" in cashier.text and "取消" in cashier.text
    assert 'name="viewport"' in cashier.text


@pytest.mark.django_db
def test_cancel_returns_to_the_merchant_without_paying(
    start_fake: Callable[..., FakeAlipay],
) -> None:
    fake = start_fake()
    url = payment_start_for(make_notice())
    cashier = requests.get(url, timeout=10)
    form = {
        "out_trade_no": _hidden(cashier.text, "out_trade_no"),
        "token": _hidden(cashier.text, "token"),
    }

    back = requests.post(f"{fake.url}/cashier/cancel", data=form, allow_redirects=False, timeout=10)

    assert back.status_code == 302
    assert back.headers["Location"] == "https://civicloop.example/firelane/pay/return/"
    assert [t.status for t in fake.trades().values()] == ["WAIT_BUYER_PAY"]
    assert fake.notify_log() == []


# --------------------------------------------------------------------------- reconcile


@pytest.mark.django_db
def test_reconcile_finds_a_payment_whose_notify_was_lost(
    start_fake: Callable[..., FakeAlipay], paid_spy: PaidSpy
) -> None:
    from civicloop.firelane.models import Payment
    from civicloop.firelane.payments.services import payment_reconcile

    fake = start_fake(lose_notifies=True)
    notice = make_notice(amount_fen=50000)
    url = payment_start_for(notice)
    payment = Payment.objects.get(notice=notice)

    # Never opened: Alipay has no such trade yet.
    assert payment_reconcile(payment=payment, on_paid=paid_spy).status == "created"
    requests.get(url, timeout=10)
    # Opened, not paid.
    assert payment_reconcile(payment=payment, on_paid=paid_spy).status == "created"

    paid = open_and_pay(url)
    fake.wait_for_notifies()
    assert paid.status_code == 302 and fake.notify_log() == []
    payment.refresh_from_db()
    assert payment.status == "created"  # the notify was lost

    reconciled = payment_reconcile(payment=payment, on_paid=paid_spy)
    again = payment_reconcile(payment=reconciled, on_paid=paid_spy)

    trade = fake.trades()[payment.out_trade_no]
    assert (reconciled.status, again.status) == ("paid", "paid")
    assert reconciled.provider_trade_no == trade.trade_no and trade.total_amount == "500.00"
    assert reconciled.paid_at is not None and reconciled.notify_count == 0
    assert len(paid_spy.calls) == 1 and paid_spy.calls[0]["in_transaction"]
    assert fake.calls().count("alipay.trade.query") == 3
    notice.refresh_from_db()
    assert notice.paid_at is not None


@pytest.mark.django_db
def test_reconcile_refuses_an_answer_it_cannot_verify(
    start_fake: Callable[..., FakeAlipay], paid_spy: PaidSpy
) -> None:
    from civicloop.firelane.models import Payment
    from civicloop.firelane.payments.fake import private_key_generate
    from civicloop.firelane.payments.services import PaymentError, payment_reconcile

    # An impostor at the gateway address: same protocol, not the provider's key.
    start_fake(lose_notifies=True, private_key=private_key_generate())
    notice = make_notice()
    open_and_pay(payment_start_for(notice))
    payment = Payment.objects.get(notice=notice)

    with pytest.raises(PaymentError) as refused:
        payment_reconcile(payment=payment, on_paid=paid_spy)

    assert refused.value.code == "provider"
    payment.refresh_from_db()
    assert payment.status == "created" and paid_spy.calls == []


# --------------------------------------------------------------------------- the full flow


@pytest.mark.django_db(transaction=True)
def test_full_flow_paid_once_despite_resends(
    live_server: Any, start_fake: Callable[..., FakeAlipay], paid_spy: PaidSpy
) -> None:
    from civicloop.firelane.models import Notice, Payment
    from civicloop.firelane.notices import notice_page_url
    from civicloop.firelane.payments.services import payment_start

    fake = start_fake(notify_attempts=3, resend_after_success=True)
    notice = make_notice(amount_fen=20000)
    # Our server fails the first delivery (our bookkeeping crashes once): the fake must
    # resend, and the resend after `success` must change nothing.
    paid_spy.fail_next = 1

    url = payment_start(
        notice=notice,
        return_url=live_server.url + RETURN_PATH,
        notify_url=live_server.url + NOTIFY_PATH,
    )
    paid = open_and_pay(url)
    fake.wait_for_notifies()

    assert paid.status_code == 302
    back = paid.headers["Location"]
    assert back.startswith(live_server.url + RETURN_PATH) and "sign=" in back
    log = fake.notify_log()
    assert [a.acknowledged for a in log] == [False, True, True]
    assert log[0].status == 500 and log[1].status == 200
    assert len({a.notify_id for a in log}) == 1  # one notification, delivered three times
    payment = Payment.objects.get(notice=notice)
    assert payment.status == "paid" and payment.notify_count == 2
    assert payment.provider_trade_no == fake.trades()[payment.out_trade_no].trade_no
    assert [c["status"] for c in paid_spy.calls] == ["paid", "paid"]  # failed, then applied
    notice = Notice.objects.select_related("case").get(pk=notice.pk)
    assert notice.paid_at is not None and notice.case.state == "paid"

    # The browser comes back: nothing to reconcile, off to the notice's page.
    returned = requests.get(back, allow_redirects=False, timeout=10)
    assert returned.status_code == 302
    assert returned.headers["Location"] == notice_page_url(notice) + "?paid=1"

    # Alipay replays the notification later: acknowledged, counted, not applied again.
    replay = requests.post(live_server.url + NOTIFY_PATH, data=log[0].params, timeout=10)
    assert (replay.status_code, replay.text) == (200, "success")
    payment.refresh_from_db()
    assert payment.notify_count == 3 and len(paid_spy.calls) == 2


@pytest.mark.django_db(transaction=True)
def test_return_before_the_notify_reconciles_and_checks_its_signature(
    live_server: Any, start_fake: Callable[..., FakeAlipay], paid_spy: PaidSpy
) -> None:
    from civicloop.firelane.models import Payment

    fake = start_fake(lose_notifies=True)
    notice = make_notice(amount_fen=1)
    from civicloop.firelane.payments.services import payment_start

    url = payment_start(
        notice=notice,
        return_url=live_server.url + RETURN_PATH,
        notify_url=live_server.url + NOTIFY_PATH,
    )
    back = open_and_pay(url).headers["Location"]
    tampered = back.replace("total_amount=0.01", "total_amount=0.02")
    assert tampered != back

    refused = requests.get(tampered, allow_redirects=False, timeout=10)
    unknown = requests.get(live_server.url + RETURN_PATH + "?out_trade_no=XF0", timeout=10)
    assert (refused.status_code, unknown.status_code) == (400, 404)
    assert Payment.objects.get(notice=notice).status == "created"

    returned = requests.get(back, allow_redirects=False, timeout=10)

    assert returned.status_code == 302 and returned.headers["Location"].startswith("/n/")
    payment = Payment.objects.get(notice=notice)
    assert payment.status == "paid" and len(paid_spy.calls) == 1
    assert fake.calls().count("alipay.trade.query") == 1
