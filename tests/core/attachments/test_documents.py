"""The DOCUMENT kind (an XLSForm "file" question): PDF, DOCX, XLSX, TXT and CSV checked by
content, stored as uploaded, only where a caller allows documents."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from civicloop.core.attachments import sniffing
from civicloop.core.attachments.errors import AttachmentError, AttachmentErrorCode
from civicloop.core.attachments.models import Attachment
from civicloop.core.attachments.services import (
    WITH_DOCUMENTS,
    attachment_create,
    attachments_create_batch,
)
from tests.core.attachments.conftest import image_bytes, make_upload, stored_files

pytestmark = pytest.mark.django_db

DOCS = frozenset({Attachment.Kind.DOCUMENT})
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<<>>\n%%EOF\n"

DOCX_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="'
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)


def zip_bytes(entries: dict[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in entries.items():
            archive.writestr(name, body)
    return out.getvalue()


def docx_bytes() -> bytes:
    return zip_bytes({"[Content_Types].xml": DOCX_TYPES, "word/document.xml": "<w:document/>"})


def xlsx_bytes() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["村名", "人数"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def refused(upload, allowed=WITH_DOCUMENTS) -> AttachmentError:
    with pytest.raises(AttachmentError) as caught:
        attachment_create(upload=upload, uploaded_by=None, allowed_kinds=allowed)
    return caught.value


@pytest.mark.parametrize(
    ("name", "data", "content_type", "mime", "extension"),
    [
        ("会议纪要.pdf", PDF, "application/pdf", "application/pdf", ".pdf"),
        (
            "纪要.docx",
            None,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ".docx",
        ),
        (
            "名单.xlsx",
            None,
            "",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ".xlsx",
        ),
        (
            "说明.txt",
            "泽国镇 议事协商会\r\n到会 12 人\n".encode(),
            "text/plain",
            "text/plain",
            ".txt",
        ),
        # Chinese Excel saves CSV in GBK (GB18030 decodes it).
        (
            "名单.csv",
            "姓名,村\n张三,横街村\n".encode("gbk"),
            "application/vnd.ms-excel",
            "text/csv",
            ".csv",
        ),
        ("名单.csv", "\ufeff姓名,村\n张三,横街村\n".encode(), "text/csv", "text/csv", ".csv"),
    ],
    ids=["pdf", "docx", "xlsx", "txt", "csv-gbk", "csv-utf8-bom"],
)
def test_documents_are_stored_as_uploaded(name, data, content_type, mime, extension) -> None:
    if data is None:
        data = docx_bytes() if extension == ".docx" else xlsx_bytes()
    attachment = attachment_create(
        upload=make_upload(name, data, content_type), uploaded_by=None, allowed_kinds=DOCS
    )
    assert attachment.kind == Attachment.Kind.DOCUMENT
    assert attachment.content_type == mime
    assert attachment.file.name.endswith(extension)
    assert attachment.original_name == name
    assert not attachment.thumbnail
    with attachment.file.open("rb") as handle:
        assert handle.read() == data
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.size == len(data)


def test_documents_are_refused_where_not_allowed() -> None:
    # The default (photos and voice notes) refuses a PDF as before.
    with pytest.raises(AttachmentError) as caught:
        attachment_create(upload=make_upload("a.pdf", PDF), uploaded_by=None)
    assert caught.value.code is AttachmentErrorCode.UNSUPPORTED_TYPE
    assert not Attachment.objects.exists()
    # A photo where only documents go.
    error = refused(make_upload("a.jpg", image_bytes("JPEG")), allowed=DOCS)
    assert error.code is AttachmentErrorCode.KIND_NOT_ALLOWED
    assert "文档" in error.message


def test_photos_still_reencoded_when_documents_allowed() -> None:
    attachment = attachment_create(
        upload=make_upload("a.png", image_bytes("PNG")),
        uploaded_by=None,
        allowed_kinds=WITH_DOCUMENTS,
    )
    assert attachment.kind == Attachment.Kind.PHOTO
    assert attachment.thumbnail


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("setup.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200),
        ("run.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200),
        ("tool.txt", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 100),
        ("page.html", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
        ("page.txt", b"  <html><body onload=alert(1)></body></html>"),
        ("notes.csv", b"a,b\n<script>alert(1)</script>\n"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        ("logo.txt", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'),
        ("archive.zip", None),
        ("macro.docx", "macro"),
        ("fake.docx", "plainzip"),
        ("utf16.txt", "你好".encode("utf-16")),
        ("noext", "纯文本".encode()),
    ],
)
def test_hostile_or_unknown_documents_are_refused(name, data, media_root: Path) -> None:
    if data is None or data == "plainzip":
        data = zip_bytes({"readme.txt": "hello"})
    elif data == "macro":
        data = zip_bytes(
            {
                "[Content_Types].xml": DOCX_TYPES.replace(
                    "document.main+xml", "document.macroEnabled.main+xml"
                ).replace("wordprocessingml", "ms-word"),
                "word/vbaProject.bin": b"\x00" * 10,
            }
        )
    error = refused(make_upload(name, data))
    assert error.code in (
        AttachmentErrorCode.UNSUPPORTED_TYPE,
        AttachmentErrorCode.CONTENT_MISMATCH,
    )
    assert stored_files(media_root) == []
    assert not Attachment.objects.exists()


def test_document_claiming_to_be_a_photo_is_a_lie() -> None:
    error = refused(make_upload("现场.jpg", docx_bytes(), "image/jpeg"))
    assert error.code is AttachmentErrorCode.CONTENT_MISMATCH
    error = refused(make_upload("纪要.pdf", image_bytes("JPEG"), "application/pdf"))
    assert error.code is AttachmentErrorCode.CONTENT_MISMATCH


def test_document_too_large(settings) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1000
    error = refused(make_upload("big.txt", b"a" * 2000), allowed=DOCS)
    assert error.code is AttachmentErrorCode.TOO_LARGE
    assert error.message.startswith("文档过大")


def test_batch_mixes_photo_and_document(media_root: Path) -> None:
    stored = attachments_create_batch(
        uploads=[make_upload("a.jpg", image_bytes("JPEG")), make_upload("b.pdf", PDF)],
        uploaded_by=None,
        allowed_kinds=WITH_DOCUMENTS,
    )
    assert [a.kind for a in stored] == ["photo", "document"]


def test_sniffing_tables() -> None:
    assert sniffing.document_sniff(docx_bytes(), "x.docx") is sniffing.DOCX
    assert sniffing.document_sniff(xlsx_bytes(), "x.xlsx") is sniffing.XLSX
    assert sniffing.document_sniff(b"PK\x03\x04broken", "x.docx") is sniffing.ZIP
    assert sniffing.document_sniff("文本".encode(), "x.bin") is None
    assert sniffing.kind_of_extension(".docx") == sniffing.DOCUMENT
    # check_claims keeps refusing documents unless told otherwise.
    with pytest.raises(AttachmentError):
        sniffing.check_claims(fmt=sniffing.PDF, filename="a.pdf", content_type="")
    assert (
        sniffing.check_claims(fmt=sniffing.PDF, filename="a.pdf", content_type="", documents=True)
        is sniffing.PDF
    )
