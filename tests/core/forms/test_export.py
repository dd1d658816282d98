"""Exporting an application's submissions: CSV (main sheet) and XLSX (one sheet per
repeat group, ODK Central's KEY / PARENT_KEY), labels per language and per form
version, only what the reader may see, every read logged, streamed."""

from __future__ import annotations

import csv
import io
import time
import tracemalloc
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.test import Client
from django.utils import translation

from civicloop.core.accounts.models import PersonalDataAccess, User
from civicloop.core.cases.services import CaseDraft, case_submit_many
from civicloop.core.forms.export import csv_chunks, export_rows, xlsx_write
from civicloop.core.forms.models import Application, Submission
from civicloop.core.forms.services import application_import_xlsform
from civicloop.core.units.models import Unit
from tests.core.forms.xlsforms import xlsform_bytes

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
HEAD = ["type", "name", "label::Chinese (zh)", "label::English (en)"]
SURVEY_V1 = [
    HEAD,
    ["text", "topic", "议题", "Topic"],
    ["integer", "people", "到会人数", "People"],
    ["decimal", "cost", "费用", "Cost"],
    ["select_one yn", "agreed", "是否达成一致", "Agreed"],
    ["select_multiple kinds", "kinds", "类别", "Kinds"],
    ["geopoint", "where", "地点", "Place"],
    ["image", "photos", "照片", "Photos"],
    ["note", "hello", "说明文字", "A note"],
    ["begin_group", "more", "更多", "More"],
    ["date", "day", "日期", "Day"],
    ["end_group", None, None, None],
    ["begin_repeat", "matters", "反映事项", "Matters"],
    ["text", "matter", "事项内容", "Matter"],
    ["begin_repeat", "steps", "跟进", "Follow-ups"],
    ["text", "step", "跟进措施", "Step"],
    ["end_repeat", None, None, None],
    ["end_repeat", None, None, None],
    ["text", "old_only", "旧版问题", "Old question"],
]
CHOICES = [
    ["list_name", "name", "label::Chinese (zh)", "label::English (en)"],
    ["yn", "yes", "是", "Yes"],
    ["yn", "no", "否", "No"],
    ["kinds", "road", "道路", "Road"],
    ["kinds", "water", "供水", "Water"],
]
# Version 2: "agreed"'s choice labels change, old_only is gone, a question is added.
SURVEY_V2 = [row for row in SURVEY_V1 if row[1] != "old_only"] + [
    ["text", "new_only", "新版问题", "New question"]
]
CHOICES_V2 = [
    row if row[:2] != ["yn", "yes"] else ["yn", "yes", "一致同意", "Unanimous"] for row in CHOICES
]
PHOTO = str(uuid.uuid4())


@pytest.fixture(autouse=True)
def _parsed_forms_forgotten() -> None:
    """form_of caches parsed forms by FormVersion id, and a rolled-back test's ids are
    used again by the next test (another form under the same id): start empty."""
    from civicloop.core.forms import selectors

    selectors._forms.clear()


def _xlsform(survey: list[list[Any]], choices: list[list[Any]], title: str) -> bytes:
    return xlsform_bytes(
        survey, choices=choices, settings=[["form_title", "form_id"], [title, "meeting"]]
    )


def _answers(**extra: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "topic": "村道拓宽",
        "people": 12,
        "cost": "1200.5",
        "agreed": "yes",
        "kinds": ["road", "water"],
        "where": "28.38 121.35 10 5",
        "photos": [PHOTO],
        "day": "2026-12-01",
        "matters": [
            {"matter": "路灯不亮", "steps": [{"step": "报修"}, {"step": "回访"}]},
            {"matter": '=HYPERLINK("http://evil")', "steps": []},
        ],
    }
    answers.update(extra)
    return answers


def _submit(app: Application, unit: Unit, answers_list: Iterable[dict[str, Any]]) -> list[str]:
    """Cases and their Submissions straight in the database (the export reads what is
    stored; checking answers is submission_create's business, tested elsewhere)."""
    answers_list = list(answers_list)
    version = app.current_form
    assert version is not None
    cases = case_submit_many(
        drafts=[
            CaseDraft(
                channel=app.code,
                title=a.get("topic", "t"),
                body="b",
                area=unit.area,
                owner_unit=unit,
                data={"app": app.code, "form_version": version.version},
            )
            for a in answers_list
        ],
        now=NOW,
    )
    Submission.objects.bulk_create(
        Submission(
            case=case, application=app, form_version=version, answers=a, created_at=case.created_at
        )
        for case, a in zip(cases, answers_list, strict=True)
    )
    return [c.number for c in cases]


@pytest.fixture
def app(demo_city: None) -> Application:
    app, _v, _c = application_import_xlsform(
        code="meeting", data=_xlsform(SURVEY_V1, CHOICES, "议事协商会"), filename="m.xlsx"
    )
    return app


@pytest.fixture
def zeguo() -> Unit:
    return Unit.objects.get(code="town-331081100")


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _rows(sheet) -> tuple[list[str], list[list[Any]]]:
    rows = list(sheet.rows)
    return sheet.headers, rows


def test_main_sheet_and_one_sheet_per_repeat_with_keys(app: Application, zeguo: Unit) -> None:
    [number] = _submit(app, zeguo, [_answers()])
    with translation.override("zh-hans"):
        sheets = export_rows(
            app, user=_user("handler_zeguo"), attachment_url=lambda pk: f"https://x/a/{pk}/"
        )
    assert [s.title for s in sheets] == ["议事协商会", "反映事项", "跟进"]
    headers, rows = _rows(sheets[0])
    assert headers[:4] == ["KEY", "提交时间", "状态", "表单版本"]
    assert "说明文字" not in headers  # a note has no answer
    row = dict(zip(headers, rows[0], strict=True))
    assert row["KEY"] == number and row["表单版本"] == 1
    assert row["议题"] == "村道拓宽"
    assert row["到会人数"] == 12
    assert str(row["费用"]) == "1200.5"
    # Select answers: the choice names (as ODK Central), then their labels.
    assert row["是否达成一致"] == "yes" and row["是否达成一致（选项标签）"] == "是"
    assert row["类别"] == "road water" and row["类别（选项标签）"] == "道路 供水"
    assert [str(row[f"地点-{p}"]) for p in ("纬度", "经度", "海拔", "精度")] == [
        "28.38",
        "121.35",
        "10",
        "5",
    ]
    assert row["照片"] == f"https://x/a/{PHOTO}/"
    assert row["日期"] == "2026-12-01"  # a question inside a group: flat
    assert row["反映事项（条数）"] == 2
    headers, rows = _rows(sheets[1])
    assert headers == ["PARENT_KEY", "KEY", "事项内容", "跟进（条数）"]
    assert rows == [
        [number, f"{number}/matters[1]", "路灯不亮", 2],
        [number, f"{number}/matters[2]", '=HYPERLINK("http://evil")', 0],
    ]
    headers, rows = _rows(sheets[2])
    assert headers == ["PARENT_KEY", "KEY", "跟进措施"]
    assert rows == [
        [f"{number}/matters[1]", f"{number}/matters[1]/steps[1]", "报修"],
        [f"{number}/matters[1]", f"{number}/matters[1]/steps[2]", "回访"],
    ]


def test_headers_follow_the_active_language(app: Application, zeguo: Unit) -> None:
    _submit(app, zeguo, [_answers()])
    with translation.override("en"):
        sheets = export_rows(app, user=_user("handler_zeguo"))
        headers, rows = _rows(sheets[0])
    assert "Topic" in headers and "Agreed" in headers
    row = dict(zip(headers, rows[0], strict=True))
    assert row["Agreed"] == "yes"
    assert [s.title for s in sheets][1:] == ["Matters", "Follow-ups"]


def test_versions_each_row_with_its_own_labels_columns_the_union(
    app: Application, zeguo: Unit
) -> None:
    [old] = _submit(app, zeguo, [_answers(old_only="旧的答案")])
    application_import_xlsform(
        code="meeting", data=_xlsform(SURVEY_V2, CHOICES_V2, "议事协商会"), filename="m.xlsx"
    )
    app.refresh_from_db()
    [new] = _submit(app, zeguo, [_answers(new_only="新的答案")])
    with translation.override("zh-hans"):
        headers, rows = _rows(export_rows(app, user=_user("handler_zeguo"))[0])
    # The current version's columns in its order, then what only older versions had.
    assert headers.index("新版问题") < headers.index("旧版问题")
    assert headers[-1] == "旧版问题"
    by_key = {r[0]: dict(zip(headers, r, strict=True)) for r in rows}
    assert by_key[old]["表单版本"] == 1 and by_key[new]["表单版本"] == 2
    assert by_key[old]["是否达成一致（选项标签）"] == "是"
    assert by_key[new]["是否达成一致（选项标签）"] == "一致同意"
    assert by_key[old]["旧版问题"] == "旧的答案" and by_key[old]["新版问题"] is None
    assert by_key[new]["新版问题"] == "新的答案"


def test_only_visible_cases_and_every_read_logged(app: Application, zeguo: Unit) -> None:
    numbers = _submit(app, zeguo, [_answers(), _answers(topic="第二")])
    housing = _user("handler_housing")
    assert list(export_rows(app, user=housing)[0].rows) == []
    assert not PersonalDataAccess.objects.exists()
    clerk = _user("handler_zeguo")
    rows = list(export_rows(app, user=clerk)[0].rows)
    assert sorted(r[0] for r in rows) == sorted(numbers)
    logged = PersonalDataAccess.objects.filter(user=clerk, purpose="export")
    assert sorted(logged.values_list("object_id", flat=True)) == sorted(numbers)
    assert set(logged.values_list("fields", flat=True)) == {"answers"}


def test_csv_has_a_bom_and_neutralises_formulas(app: Application, zeguo: Unit) -> None:
    [number] = _submit(app, zeguo, [_answers(topic="=1+2", people=-3)])
    with translation.override("zh-hans"):
        data = b"".join(csv_chunks(export_rows(app, user=_user("handler_zeguo"))[0]))
    assert data.startswith(b"\xef\xbb\xbf")
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    headers = next(reader)
    row = dict(zip(headers, next(reader), strict=True))
    assert row["KEY"] == number
    assert row["议题"] == "'=1+2"
    assert row["到会人数"] == "-3"  # a number is a number, not a formula


def test_xlsx_one_sheet_per_repeat_and_no_formula(app: Application, zeguo: Unit) -> None:
    [number] = _submit(app, zeguo, [_answers(old_only="长" * 40000 + "\x07")])
    with translation.override("zh-hans"):
        handle = xlsx_write(export_rows(app, user=_user("handler_zeguo")))
    book = openpyxl.load_workbook(handle)
    assert book.sheetnames == ["议事协商会", "反映事项", "跟进"]
    main = list(book["议事协商会"].iter_rows(values_only=True))
    assert main[1][0] == number
    # A cell Excel would refuse is cut to its limit; control characters are dropped.
    assert main[1][main[0].index("旧版问题")] == "长" * 32767
    matters = book["反映事项"]
    assert matters["C3"].value == '=HYPERLINK("http://evil")'
    assert matters["C3"].data_type == "s"


# --------------------------------------------------------------------------- views


def _client(username: str | None) -> Client:
    client = Client()
    if username:
        client.force_login(_user(username))
    return client


def test_views_are_for_staff_only(app: Application, zeguo: Unit, db: None) -> None:
    _submit(app, zeguo, [_answers()])
    for url in (
        "/apps/meeting/export.csv",
        "/apps/meeting/export.xlsx",
        "/apps/meeting/submissions/",
    ):
        anonymous = _client(None).get(url)
        assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
        citizen = User.objects.create_user(username="c1", password="x", is_citizen=True)
        client = Client()
        client.force_login(citizen)
        assert client.get(url).status_code == 403
        citizen.delete()
    assert _client("handler_zeguo").get("/apps/nope/export.csv").status_code == 404


def test_submissions_page_lists_and_links(app: Application, zeguo: Unit) -> None:
    [number] = _submit(app, zeguo, [_answers()])
    page = _client("handler_zeguo").get("/apps/meeting/submissions/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="/cases/{number}/"' in html
    assert 'href="/apps/meeting/export.xlsx"' in html and 'href="/apps/meeting/export.csv"' in html
    other = _client("handler_housing").get("/apps/meeting/submissions/")
    assert number not in other.content.decode()


def test_download_views_stream(app: Application, zeguo: Unit) -> None:
    [number] = _submit(app, zeguo, [_answers()])
    client = _client("handler_zeguo")
    response = client.get("/apps/meeting/export.csv", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf") and number.encode() in body
    assert f"http://testserver/attachments/{PHOTO}/".encode() in body
    response = client.get("/apps/meeting/export.xlsx")
    assert response.status_code == 200 and response.streaming
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert len(book.sheetnames) == 3


# --------------------------------------------------------------------------- memory

BIG = 2000


def test_a_large_export_streams_in_bounded_memory(app: Application, zeguo: Unit) -> None:
    """2000 submissions, each with a long text: the CSV is produced row by row and the
    XLSX through a spooled file, so the peak of Python allocations while writing stays
    a fraction of the output (figures: bench/forms_export.py)."""
    long_text = "议事内容" * 500  # 2000 characters, 6 kB in UTF-8
    _submit(app, zeguo, (_answers(topic=f"{i} {long_text}") for i in range(BIG)))
    admin = _user("admin")
    sheets = export_rows(app, user=admin, log=False)
    tracemalloc.start()
    started = time.perf_counter()
    total = sum(len(chunk) for chunk in csv_chunks(sheets[0]))
    _current, csv_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert total > BIG * 6000
    assert csv_peak < total / 3, (csv_peak, total)
    tracemalloc.start()
    handle = xlsx_write(export_rows(app, user=admin, log=False))
    _current, xlsx_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = handle.seek(0, io.SEEK_END)
    assert size > 0
    assert xlsx_peak < total / 3, (xlsx_peak, total)
    assert time.perf_counter() - started < 120


# --------------------------------------------------------------------------- a "file" question


def test_a_file_question_takes_a_document_and_the_export_links_it(demo_city: None) -> None:
    """Through submission_create: a PDF for a "file" question is stored as a document
    (checked by content), the staff member may open it, and the export links it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from civicloop.core.attachments.errors import AttachmentError, AttachmentErrorCode
    from civicloop.core.attachments.models import Attachment
    from civicloop.core.forms.services import submission_create

    survey = [HEAD, ["text", "topic", "议题", "Topic"], ["file", "minutes", "会议纪要", "Minutes"]]
    app, _v, _c = application_import_xlsform(
        code="minutes", data=_xlsform(survey, CHOICES, "会议纪要"), filename="m.xlsx"
    )
    clerk = _user("handler_zeguo")
    pdf = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"
    case = submission_create(
        application=app,
        answers={"topic": "村民议事"},
        files={"minutes": [SimpleUploadedFile("纪要.pdf", pdf, content_type="application/pdf")]},
        submitter=clerk,
    )
    attachment = Attachment.objects.get()
    assert attachment.kind == "document" and attachment.content_type == "application/pdf"
    assert Submission.objects.get(case=case).answers["minutes"] == [str(attachment.pk)]
    client = _client("handler_zeguo")
    opened = client.get(f"/attachments/{attachment.pk}/")
    assert opened.status_code == 200 and b"".join(opened.streaming_content) == pdf
    body = b"".join(client.get("/apps/minutes/export.csv").streaming_content).decode("utf-8-sig")
    assert f"http://testserver/attachments/{attachment.pk}/" in body
    # An executable is refused whole: nothing more stored.
    with pytest.raises(AttachmentError) as caught:
        submission_create(
            application=app,
            answers={"topic": "x"},
            files={"minutes": [SimpleUploadedFile("a.exe", b"MZ\x90\x00" + b"\x00" * 64)]},
            submitter=clerk,
        )
    assert caught.value.code is AttachmentErrorCode.UNSUPPORTED_TYPE
    assert Attachment.objects.count() == 1


def test_submissions_page_queries_do_not_grow_with_rows(
    app: Application, zeguo: Unit, django_assert_max_num_queries: Any
) -> None:
    _submit(app, zeguo, [_answers(topic=f"第 {i} 次") for i in range(30)])
    client = _client("handler_zeguo")
    client.get("/apps/meeting/submissions/")  # warm: session, standing
    with django_assert_max_num_queries(12):
        page = client.get("/apps/meeting/submissions/")
    assert page.content.decode().count('<td><a href="/cases/') == 30
