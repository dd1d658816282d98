"""An application defined as data, in a real browser on a phone: an XLSForm with every
question type is imported, a clerk opens its submit page, the page shows and hides a
question as it is answered, shows the form's own constraint message in Chinese, filters
choices, adds and removes repeat rows, and submits; the case exists with the answers.

Screenshots (phone 390x844 and desktop 1280x900) go to test-artifacts/screenshots/forms-*.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest

from tests.e2e.conftest import PHONE, SHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = {"width": 1280, "height": 900}


@pytest.fixture
def visit_app(settings, tmp_path: Path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    from civicloop.core.demo import demo_city_build
    from civicloop.core.forms.services import application_import_xlsform
    from tests.web.forms_sample import every_type_xlsx

    demo_city_build()
    app, version, created = application_import_xlsform(
        code="visit", data=every_type_xlsx(), filename="visit.xlsx"
    )
    assert created and version.version == 1
    return app


def media_files(tmp_path: Path) -> tuple[list[Path], Path, Path]:
    from PIL import Image

    photos = []
    for i, colour in enumerate(((200, 40, 40), (40, 120, 200))):
        path = tmp_path / f"photo{i}.png"
        out = io.BytesIO()
        Image.new("RGB", (64, 48), colour).save(out, "PNG")
        path.write_bytes(out.getvalue())
        photos.append(path)
    voice = tmp_path / "voice.wav"
    with wave.open(str(voice), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 4000)
    doc = tmp_path / "notes.txt"
    doc.write_text("走访记录：村口道路需要修补。\n", encoding="utf-8")
    return photos, voice, doc


def shots(page, name: str) -> None:
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SHOTS / f"forms-{name}-phone.png"), full_page=True)
    page.set_viewport_size(WIDE)
    page.screenshot(path=str(SHOTS / f"forms-{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)


def test_forms_journey(chromium_page, live_server, visit_app, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from civicloop.core.cases.models import Case
    from civicloop.core.demo import DEMO_PASSWORD
    from civicloop.core.forms.models import Submission

    page = chromium_page
    base = live_server.url
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/login/")
    page.fill("#id_username", "handler_zeguo")
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(f"{base}/workbench/")

    # The menu leads to the applications, and on to the form.
    page.locator("nav.nav a[href='/apps/']").click()
    page.wait_for_url(f"{base}/apps/")
    page.locator("a[href='/apps/visit/new/']").first.click()
    page.wait_for_url(f"{base}/apps/visit/new/")
    expect(page.locator("h1")).to_have_text("走访登记")
    shots(page, "blank")

    # Sent blank: the page comes back with every error at its field and a summary.
    page.fill("#f-place", "先填的地点")
    page.locator(".xf-actions button[type=submit]").click()
    page.wait_for_load_state("load")
    summary = page.locator("#xf-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("人数：此项必填。")
    expect(page.locator("#e-f-people")).to_have_text("此项必填。")
    expect(page.locator("#f-place")).to_have_value("先填的地点")
    shots(page, "refused")
    assert not Case.objects.filter(channel="visit").exists()

    # `relevant`: the issue is asked only when there is one.
    issue = page.locator("#q-f-issue")
    expect(issue).to_be_hidden()
    page.locator("input[name=has_issue][value=yes]").check()
    expect(issue).to_be_visible()
    page.locator("input[name=has_issue][value=no]").check()
    expect(issue).to_be_hidden()
    page.locator("input[name=has_issue][value=yes]").check()
    expect(issue).to_be_visible()
    page.fill("#f-issue", "路灯不亮")

    # `constraint`: the form's own message, in Chinese, under the field.
    page.fill("#f-people", "0")
    expect(page.locator("#e-f-people")).to_have_text("人数须在1到500之间")
    shots(page, "constraint")
    page.fill("#f-people", "12")
    expect(page.locator("#e-f-people")).to_be_hidden()
    # A calculation shown by a read-only question.
    expect(page.locator("#f-double_shown")).to_have_value("24")

    # Choice filter: the villages of the town picked.
    page.locator("input[name=town][value=daxi]").check()
    expect(page.locator("#q-f-village label[data-choice=zg1]")).to_be_hidden()
    expect(page.locator("#q-f-village label[data-choice=dx1]")).to_be_visible()
    page.locator("input[name=town][value=zeguo]").check()
    expect(page.locator("#q-f-village label[data-choice=dx1]")).to_be_hidden()
    page.locator("input[name=village][value=zg1]").check()

    # Every other type.
    page.select_option("#f-__area", "331081100")
    page.fill("#f-place", "泽国村文化礼堂")
    page.fill("#f-story", "第一行\n第二行")
    page.fill("#f-cost", "12.5")
    page.locator("input[name=topics][value=road]").check()
    page.locator("input[name=topics][value=safety]").check()
    page.fill("#f-visit_date", "2026-12-01")
    page.fill("#f-visit_time", "09:30")
    page.fill("#f-visit_at", "2026-12-01T09:30")
    # The phone's location fills the point; manual entry corrects it.
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": 28.371234, "longitude": 121.401234})
    page.locator("#q-f-where [data-geo]").click()
    expect(page.locator("input[name=where__lat]")).to_have_value("28.371234")
    expect(page.locator("input[name=where__lng]")).to_have_value("121.401234")
    page.fill("input[name=where__lat]", "28.3850")
    page.fill("input[name=where__lng]", "121.3620")
    photos, voice, doc = media_files(tmp_path)
    page.set_input_files("#f-photos", [str(p) for p in photos])
    page.set_input_files("#f-voice", str(voice))
    page.set_input_files("#f-doc", str(doc))
    page.locator("#f-agree").check()
    page.fill("#f-contact", "王五")

    # Repeats: fill the first row, add two, remove the middle one.
    page.fill("[name='matters[0].matter']", "修路")
    page.fill("[name='matters[0].votes']", "5")
    add = page.locator("button[name=__add][value=matters]")
    add.click()
    page.fill("[name='matters[1].matter']", "不要的")
    add.click()
    page.fill("[name='matters[2].matter']", "装路灯")
    page.locator("button[name=__remove][value='matters[1]']").click()
    expect(page.locator("[name='matters[1].matter']")).to_have_value("装路灯")
    expect(page.locator("[name='matters[2].matter']")).to_have_count(0)
    expect(page.locator(".xf-row .xf-row-no").nth(1)).to_have_text("2")
    shots(page, "filled")

    page.locator(".xf-actions button[type=submit]").click()
    page.wait_for_url(f"{base}/cases/*/")
    expect(page.locator(".message-success")).to_contain_text("已提交")
    shots(page, "case")

    case = Case.objects.get(channel="visit")
    assert page.url.endswith(f"/cases/{case.number}/")
    answers = Submission.objects.get(case=case).answers
    assert answers["place"] == "泽国村文化礼堂"
    assert answers["story"].replace("\r\n", "\n") == "第一行\n第二行"
    assert answers["people"] == 12
    assert answers["cost"] == "12.5"
    assert answers["has_issue"] == "yes" and answers["issue"] == "路灯不亮"
    assert answers["topics"] == ["road", "safety"]
    assert answers["town"] == "zeguo" and answers["village"] == "zg1"
    assert answers["visit_date"] == "2026-12-01"
    assert answers["visit_time"].startswith("09:30")
    assert answers["visit_at"].startswith("2026-12-01T09:30")
    assert answers["where"].split()[:2] == ["28.3850", "121.3620"] or answers["where"].split()[
        :2
    ] == ["28.385", "121.362"]
    assert len(answers["photos"]) == 2 and len(answers["voice"]) == 1 and len(answers["doc"]) == 1
    assert answers["agree"] == "OK"
    assert answers["double"] == "24"
    assert answers["contact"] == "王五"
    assert [(m.get("matter"), m.get("votes")) for m in answers["matters"]] == [
        ("修路", 5),
        ("装路灯", None),
    ]
    # The case page shows the answers with the form's labels and the photos.
    expect(page.locator(".xf-answers")).to_contain_text("道路、安全")
    expect(page.locator(".xf-answers img.xf-thumb")).to_have_count(2)
    expect(page.locator(".xf-answers audio")).to_have_count(1)
    expect(page.locator(".xf-answers")).to_contain_text("2026-12-01 09:30")
    expect(page.locator(".xf-answers dt", has_text="double")).to_have_count(0)


NESTED_SURVEY = [
    ["type", "name", "label", "required", "repeat_count"],
    ["begin_repeat", "households", "住户", None, None],
    ["text", "head", "户主", "yes", None],
    ["begin_repeat", "members", "成员", None, None],
    ["text", "member", "姓名", None, None],
    ["end_repeat", None, None, None, None],
    ["end_repeat", None, None, None, None],
    ["integer", "n", "孩子数", None, None],
    ["begin_repeat", "kids", "孩子", None, "${n}"],
    ["text", "kid", "名字", None, None],
    ["end_repeat", None, None, None, None],
]


def test_nested_repeats_and_the_demo_forms(chromium_page, live_server, visit_app) -> None:
    """Rows of a repeat inside a repeat are added and removed in the page and keep their
    answers (the page renumbers them); the demo applications' forms render on a phone."""
    from playwright.sync_api import expect

    from civicloop.core.cases.models import Case
    from civicloop.core.demo import DEMO_PASSWORD
    from civicloop.core.forms.models import Application, Submission
    from civicloop.core.forms.services import application_import_xlsform
    from tests.core.forms.xlsforms import xlsform_bytes

    application_import_xlsform(
        code="census",
        data=xlsform_bytes(NESTED_SURVEY, settings=[["form_title"], ["住户登记"]]),
        filename="census.xlsx",
    )
    page = chromium_page
    base = live_server.url
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", DEMO_PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(f"{base}/workbench/")

    page.goto(f"{base}/apps/census/new/")
    page.select_option("#f-__area", "331081100")  # the admin has no unit to fall back on
    page.fill("[name='households[0].head']", "甲")
    page.fill("[name='households[0].members[0].member']", "甲一")
    page.locator("button[name=__add][value=households]").click()
    page.fill("[name='households[1].head']", "乙")
    page.fill("[name='households[1].members[0].member']", "乙一")
    page.locator("button[name=__add][value='households[1].members']").click()
    page.fill("[name='households[1].members[1].member']", "乙二")
    # Removing the first household renumbers the second, its members and their buttons.
    page.locator("button[name=__remove][value='households[0]']").click()
    expect(page.locator("[name='households[0].head']")).to_have_value("乙")
    expect(page.locator("[name='households[0].members[1].member']")).to_have_value("乙二")
    page.locator("button[name=__add][value='households[0].members']").click()
    page.fill("[name='households[0].members[2].member']", "乙三")
    # `repeat_count`: as many rows as the answer says, without add/remove buttons.
    kids = page.locator("#q-f-kids .xf-row")
    expect(kids).to_have_count(0)
    page.fill("#f-n", "3")
    expect(kids).to_have_count(3)
    page.fill("#f-n", "1")
    expect(kids).to_have_count(1)
    expect(page.locator("#q-f-kids button")).to_have_count(0)
    page.fill("[name='kids[0].kid']", "小明")
    page.screenshot(path=str(SHOTS / "forms-nested-phone.png"), full_page=True)
    page.locator(".xf-actions button[type=submit]").click()
    page.wait_for_url(f"{base}/cases/*/")
    answers = Submission.objects.get(case=Case.objects.get(channel="census")).answers
    assert answers["households"] == [
        {"head": "乙", "members": [{"member": "乙一"}, {"member": "乙二"}, {"member": "乙三"}]}
    ]
    assert answers["n"] == 1 and answers["kids"] == [{"kid": "小明"}]

    for app in Application.objects.filter(current_form__isnull=False).exclude(code="census"):
        page.goto(f"{base}/apps/{app.code}/new/")
        expect(page.locator("form.xf-form")).to_be_visible()
        page.wait_for_timeout(400)  # the first live check
        shots(page, f"demo-{app.code}")
    # The site's language toggle switches the form's labels to the English column.
    page.goto(f"{base}/apps/visit/new/")
    page.locator(".lang-form button[value=en]").click()
    page.wait_for_url(f"{base}/apps/visit/new/")
    expect(page.locator("label[for=f-place]")).to_contain_text("Place")
    page.fill("#f-people", "0")
    expect(page.locator("#e-f-people")).to_have_text("Between 1 and 500")
    shots(page, "english")
    assert errors == []
