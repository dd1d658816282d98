"""生命通道 end to end in Debian's Chromium: the simulator parks a car → the warning SMS
reaches the fake Aliyun gateway → the officer approves in the review page → the owner
opens the SMS link on a phone (告知: nothing to pay yet) and states their case → the
officer rejects it with reasons → the decision (处罚决定书) on the owner's page → pays
through the fake provider → downloads the receipt PDF (缴款凭证), whose text is checked →
the case closes as 已缴款 (the procedure of 行政处罚法)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.e2e.conftest import DESKTOP, PHONE, SHOTS
from tests.firelane.pdf_text import pdf_text
from tests.waiting import wait_until

# needs_modules: uses the firelane module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.needs_modules("firelane"),
]

PLATE = "浙FEQ635"  # the car in civicloop/firelane/demo_images/hyperlpr_scene_0014.jpg
OWNER_PHONE = "13900000001"


@pytest.fixture
def fakes(settings: Any, tmp_path: Path, live_server: Any) -> Iterator[dict[str, Any]]:
    from civicloop.firelane.payments.fake import FakeAlipay, fake_keys_generate
    from civicloop.notify.fakes import FakeAliyunSms

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = live_server.url
    settings.SMS_LINK_PREFIX = f"{live_server.url}/n/"
    keys = fake_keys_generate()
    keys_file = tmp_path / "payment-fake-keys.json"
    keys_file.write_text(json.dumps(keys.__dict__), encoding="utf-8")
    pay = FakeAlipay(
        app_id=keys.app_id,
        app_public_key=keys.app_public_key,
        private_key=keys.fake_private_key,
        notify_interval_s=0.2,
        # The owner is back before the provider's notify: the return reconciles by query,
        # and the notify that follows is a duplicate.
        notify_delay_s=3.0,
    ).start()
    settings.PAYMENT_PROVIDER = "fake"
    settings.PAYMENT_FAKE_KEYS_FILE = keys_file
    settings.PAYMENT_FAKE_URL = pay.url
    with FakeAliyunSms(access_key_id="LTAI-test", access_key_secret="secret-test") as sms:
        settings.SMS_BACKEND = "aliyun"
        settings.ALIYUN_SMS_ENDPOINT = sms.endpoint
        settings.ALIYUN_ACCESS_KEY_ID = "LTAI-test"
        settings.ALIYUN_ACCESS_KEY_SECRET = "secret-test"
        yield {"sms": sms, "pay": pay}
    pay.stop()


def _deliver_outbox() -> None:
    from civicloop.core.outbox.services import outbox_sweep

    outbox_sweep()


def _sms_params(sms: Any, template: str) -> dict[str, str]:
    from civicloop.notify.templates import get_template

    code = get_template(template).code
    sent = [m for m in sms.received if m["template_code"] == code]
    assert len(sent) == 1, sms.received
    assert sent[0]["phone"] == OWNER_PHONE
    return dict(sent[0]["template_param"])


def test_a_parked_car_ends_in_a_paid_notice(
    chromium_page: Any, live_server: Any, fakes: dict[str, Any]
) -> None:
    from civicloop.core.cases.models import Case
    from civicloop.core.demo import DEMO_PASSWORD, demo_city_build
    from civicloop.firelane.models import Site, Stay
    from civicloop.firelane.simulator import DEMO_SCENARIO, CameraSimulator
    from civicloop.firelane.tracking import firelane_sweep, sightings_process

    demo_city_build()
    Site.objects.filter(code="chuangye").update(warn_after_s=300, notice_after_s=1800, gap_s=180)
    car = next(c for c in DEMO_SCENARIO if c.plate == PLATE)

    # The simulator parks the car for 32 minutes of camera time, one push every 2 minutes,
    # through the real ISAPI endpoint.
    simulator = CameraSimulator(base_url=live_server.url)
    start = timezone.now() - timedelta(minutes=33)
    for i in range(17):
        status = simulator.push_isapi(
            car=car, when=start + timedelta(minutes=2 * i), event_id=f"e2e-{i}"
        )
        assert status == 200
    # The worker's job: read the plates, merge the stay, warn at T1 and build the evidence at T2.
    sightings_process(limit=100)
    firelane_sweep()
    stay = Stay.objects.get(plate=PLATE)
    case = Case.objects.get(pk=stay.case_id)
    assert case.state == "review"
    _deliver_outbox()
    warning = _sms_params(fakes["sms"], "firelane_warning")
    assert warning["plate"] == PLATE

    # The officer reviews the evidence side by side and approves.
    page = chromium_page
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "officer_fire")
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/workbench/")
    page.goto(f"{live_server.url}/firelane/review/")
    page.screenshot(path=str(SHOTS / "40-firelane-review-queue.png"), full_page=True)
    page.click(f"text={case.number}")
    page.wait_for_selector("figure.evidence img")
    page.screenshot(path=str(SHOTS / "41-firelane-review-evidence.png"), full_page=True)
    page.click("#approve")
    page.wait_for_selector("text=已开具告知单")
    case.refresh_from_db()
    assert case.state == "noticed"

    # The owner gets the notice SMS and opens its link on a phone.
    _deliver_outbox()
    link = f"{live_server.url}/n/" + _sms_params(fakes["sms"], "firelane_notice")["token"]
    assert link.startswith(live_server.url + "/n/")
    phone = page.context.browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
    owner = phone.new_page()
    owner.set_default_timeout(15_000)
    owner.goto(link)
    owner.wait_for_selector("text=消防车通道违法停车告知单")
    assert PLATE in owner.content() and "第六十条" in owner.content()
    owner.screenshot(path=str(SHOTS / "42-firelane-notice-phone.png"), full_page=True)
    # 告知: the intended penalty cannot be paid; the owner states their case.
    assert owner.locator("#pay").count() == 0
    owner.fill("#statement", "当时送老人去医院急诊，十分钟后已驶离。")
    owner.click("#state-case")
    owner.wait_for_selector("text=您的陈述申辩已提交")
    assert owner.locator("#pay").count() == 0
    case.refresh_from_db()
    assert case.state == "statement"

    # The officer rejects the statement with reasons: the decision follows.
    page.goto(f"{live_server.url}/firelane/review/{case.number}/")
    page.wait_for_selector("text=当时送老人去医院急诊")
    page.fill("#st-reason", "监控显示车辆停放三十二分钟，申辩理由不成立。")
    page.click("#uphold")
    page.wait_for_selector("text=已处理陈述申辩")
    case.refresh_from_db()
    assert case.state == "decided"
    notice = case.firelane_notice
    assert notice.decision_number

    # The owner reads the decision (number, reasons, rights, phone) and pays it.
    owner.goto(link)
    owner.wait_for_selector("text=行政处罚决定书")
    decision_page = owner.content()
    assert notice.decision_number in decision_page and "申辩理由不成立" in decision_page
    assert "六十日" in decision_page and "六个月" in decision_page
    owner.screenshot(path=str(SHOTS / "42b-firelane-decision-phone.png"), full_page=True)
    owner.click("#pay")
    owner.wait_for_selector("text=确认付款")
    owner.screenshot(path=str(SHOTS / "43-firelane-cashier-phone.png"), full_page=True)
    owner.click("text=确认付款")
    owner.wait_for_url(f"{live_server.url}/n/**")
    # The provider's notify and the owner's return race; the test database (SQLite in
    # memory, shared cache) locks whole tables meanwhile, so look once the notify is in.
    wait_until(lambda: Case.objects.get(pk=case.pk).state == "paid", timeout=15, interval=0.2)
    owner.goto(link)
    owner.wait_for_selector("text=已缴款")
    owner.screenshot(path=str(SHOTS / "44-firelane-paid-phone.png"), full_page=True)
    # The receipt: a numbered PDF downloaded from the page, its text checked.
    notice.refresh_from_db()
    assert notice.receipt_number
    with owner.expect_download() as download:
        owner.click("#receipt")
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".pdf")
    text = pdf_text(Path(path).read_bytes())
    assert notice.receipt_number in text and str(notice.decision_number) in text
    assert notice.number in text and PLATE in text and "缴款凭证" in text
    assert f"{notice.fine_fen // 100}.{notice.fine_fen % 100:02d}" in text
    phone.close()
    case.refresh_from_db()
    assert case.state == "paid"
    assert case.timeline.filter(action="paid").count() == 1
    page.set_viewport_size(DESKTOP)
