"""协商在线 end to end in Debian's Chromium, then a 社情民意 report from it.

A citizen scans a studio's code on a phone → writes to a member with a voice note
recorded in the browser (Chromium's fake microphone) → the member replies → the citizen
writes back → the member passes it to 泽国镇人民政府 → the town's result comes back into
the thread → the citizen rates it. The member writes a report from the thread; the CPPCC
office edits it and records its adoption by 台州市政协 with a 批示; the member's yearly
tally shows it. Screenshots: test-artifacts/screenshots/70-*.png (phone and desktop)."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, SHOTS
from tests.sms_inbox import inbox

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("sms_inbox"),
]

CITIZEN = "13957669999"


def shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"70-{name}.png"), full_page=True)


@pytest.fixture
def browser_with_microphone(chromium_page) -> Iterator[object]:
    """A second Chromium (from the same Playwright) with a fake microphone (a tone),
    granted without a prompt."""
    browser = chromium_page.context.browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
        ],
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def studio_demo(settings, tmp_path: Path) -> dict[str, str]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    from django.core.cache import cache

    from civicloop.core.demo import demo_city_build, demo_logins_ensure
    from civicloop.studios import demo

    cache.clear()
    demo_city_build()
    studios = demo._studios_build(random.Random(demo.SEED), lambda _m: None)
    demo_logins_ensure(demo.DEMO_LOGINS)
    demo._demo_member_link(studios)
    studio = next(s for s in studios if s.unit.code == "studio-331081100")
    return {"slug": studio.slug, "name": studio.name}


def log_in(page, base: str, username: str) -> None:
    from civicloop.core.demo import DEMO_PASSWORD

    page.context.clear_cookies()
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_load_state("load")


def test_consultation_and_report_journey(
    chromium_page, browser_with_microphone, live_server, studio_demo, settings
) -> None:
    from civicloop.core.cases.models import Case
    from civicloop.studios.models import Report, Thread

    base = live_server.url
    settings.SITE_URL = base
    phone_context = browser_with_microphone.new_context(viewport=PHONE, locale="zh-CN")
    phone_context.grant_permissions(["microphone"], origin=base)
    citizen = phone_context.new_page()
    citizen.set_default_timeout(15_000)

    # 1. The citizen scans the studio's code: it leads to the studio's page.
    citizen.goto(f"{base}/studios/s/{studio_demo['slug']}/")
    src = citizen.locator("img[data-code=studio]").get_attribute("src") or ""
    png = citizen.request.get(base + src)
    url = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.body())))[0].text
    assert url == f"{base}/studios/s/{studio_demo['slug']}/"
    citizen.goto(url)
    shot(citizen, "01-studio-phone")
    citizen.get_by_role("link", name="协商在线：给工作室留言").click()
    citizen.wait_for_url(f"{base}/studios/s/{studio_demo['slug']}/write/")

    # 2. Writes to 陈委员 with a voice note recorded in the browser; SMS code; send.
    citizen.select_option("select[name=member]", label="陈委员（经济界）")
    citizen.fill("textarea[name=text]", "我们是做水泵配件的小企业，技改补贴怎么申报？")
    citizen.locator("[data-record]").click()
    citizen.locator("[data-recording]").wait_for()
    citizen.wait_for_timeout(1500)
    citizen.locator("[data-stop]").click()
    citizen.wait_for_function(
        "() => document.querySelector('input[name=voice]').files.length === 1"
    )
    citizen.fill("input[name=phone]", CITIZEN)
    citizen.locator("[data-send-code]").click()
    citizen.wait_for_selector("[data-code-status].status-ok")
    citizen.fill("input[name=code]", inbox().last_code(CITIZEN))
    shot(citizen, "02-write-phone")
    citizen.locator("[data-submit]").click()
    citizen.wait_for_url(f"{base}/studios/t/**")
    thread_link = citizen.url
    thread = Thread.objects.select_related("case").get()
    assert thread.member is not None and thread.member.name == "陈委员"
    voice = thread.messages.get().attachments.get()
    assert voice.kind == "voice" and voice.size > 1000
    assert citizen.locator("audio").count() == 1
    shot(citizen, "03-thread-sent-phone")

    # 3. The member replies (desktop).
    member = chromium_page
    log_in(member, base, "member_chen")
    member.goto(f"{base}/studios/inbox/")
    shot(member, "04-inbox-desktop")
    member.get_by_role("link", name=thread.case.number, exact=False).first.click()
    member.wait_for_url(f"{base}/studios/threads/{thread.pk}/")
    assert member.locator("audio").count() == 1
    member.fill("textarea[name=text]", "技改补贴每年3月申报，需准备设备发票和项目备案表。")
    member.locator("button[name=act][value=reply]").click()
    member.wait_for_selector(".message-success")
    shot(member, "05-member-reply-desktop")

    # 4. The citizen reads it and writes back.
    citizen.goto(thread_link)
    assert "技改补贴每年3月申报" in citizen.content()
    citizen.fill("textarea[name=text]", "谢谢委员，备案表在哪里领？")
    citizen.locator("form.st-form button[type=submit]").first.click()
    citizen.wait_for_load_state("load")
    assert "备案表在哪里领" in citizen.content()

    # 5. The member passes it to 泽国镇人民政府.
    member.goto(f"{base}/studios/threads/{thread.pk}/")
    member.fill("textarea[name=text]", "请镇经济发展办告知备案表领取地点。")
    member.select_option("select[name=unit]", label="泽国镇人民政府")
    member.locator("button[name=act][value=pass]").click()
    member.wait_for_load_state("load")
    referral = Case.objects.get(channel="consultation_referral")
    assert Case.objects.get(pk=thread.case_id).state == "with_unit"

    # 6. The town answers on the referral page (linked from its case page).
    log_in(member, base, "handler_zeguo")
    member.goto(f"{base}/cases/{referral.number}/")
    member.locator(f"a[href='/studios/referrals/{referral.number}/']").first.click()
    member.fill("textarea[name=text]", "备案表可在镇便民服务中心3号窗口领取，也可网上下载。")
    shot(member, "06-referral-desktop")
    member.locator("form.st-form button[type=submit]").click()
    member.wait_for_load_state("load")

    # 7. The result is in the citizen's thread; the citizen rates it.
    citizen.goto(thread_link)
    assert "3号窗口领取" in citizen.content()
    citizen.check("input[name=rating][value=satisfied]")
    shot(citizen, "07-thread-result-phone")
    citizen.get_by_role("button", name="提交评价").click()
    citizen.wait_for_load_state("load")
    assert "本次协商已结束" in citizen.content()
    case = Case.objects.get(pk=thread.case_id)
    assert case.state == "closed" and case.rating == "satisfied"
    shot(citizen, "08-thread-closed-phone")

    # 8. The member writes a report from the thread.
    log_in(member, base, "member_chen")
    member.goto(f"{base}/studios/threads/{thread.pk}/")
    member.get_by_role("link", name="据此撰写社情民意信息").click()
    member.fill("input[name=title]", "关于简化小微企业技改补贴申报的建议")
    member.fill("textarea[name=situation]", "协商在线中企业反映技改补贴申报材料多、信息不清。")
    member.fill("textarea[name=analysis]", "申报指南分散在多个部门网站，基层窗口不熟悉。")
    member.fill("textarea[name=suggestion]", "编制一张申报清单，镇便民服务中心统一受理。")
    member.locator("form.st-form button[type=submit]").click()
    member.wait_for_url(f"{base}/studios/reports/*/")
    report = Report.objects.get()
    assert list(report.threads.all()) == [thread]

    # 9. The office edits it and records 台州市政协's adoption and a 批示.
    log_in(member, base, "cppcc_office")
    member.goto(f"{base}/studios/reports/{report.pk}/")
    member.fill("#e-situation", "企业反映技改补贴申报材料多。")
    member.get_by_role("button", name="保存编辑稿").click()
    member.wait_for_load_state("load")
    member.select_option("#a-level", "taizhou")
    member.fill("#a-body", "台州市政协")
    member.get_by_role("button", name="记录采用").click()
    member.wait_for_load_state("load")
    member.fill("#i-leader", "台州市副市长")
    member.select_option("#i-level", "taizhou")
    member.fill("#i-text", "请经信局牵头研究。")
    member.get_by_role("button", name="记录批示").click()
    member.wait_for_load_state("load")
    text = member.locator(".st-adoptions").inner_text()
    assert "台州市政协" in text and "台州市副市长" in text
    assert "企业反映技改补贴申报材料多。" in member.content()  # the edit
    assert "协商在线中企业反映" in member.content()  # beside the original
    shot(member, "09-report-office-desktop")
    member.set_viewport_size(PHONE)
    shot(member, "09-report-office-phone")
    member.set_viewport_size(DESKTOP)

    # 10. The member's yearly tally shows it: 1 report, 10 points for 台州, 10 for the 批示.
    log_in(member, base, "member_chen")
    member.goto(f"{base}/studios/reports/")
    row = member.locator("#tally tbody tr").first
    assert "陈委员" in row.inner_text() and "台州市×1" in row.inner_text()
    assert row.locator("[data-score]").inner_text() == "20"
    shot(member, "10-tally-desktop")
    phone_context.close()


def test_public_pages_at_phone_and_desktop(chromium_page, live_server, studio_demo) -> None:
    """The directory, a studio and the write page, looked at as their users would."""
    page = chromium_page
    base = live_server.url
    for size, label in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page.set_viewport_size(size)
        page.goto(f"{base}/studios/?field=教育")
        assert page.locator(".st-list li").count() >= 3
        shot(page, f"11-list-{label}")
        page.goto(f"{base}/studios/s/{studio_demo['slug']}/")
        shot(page, f"12-studio-{label}")
        page.goto(f"{base}/studios/s/{studio_demo['slug']}/write/")
        shot(page, f"13-write-{label}")
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
        assert not overflow, f"horizontal scroll at {label}"
