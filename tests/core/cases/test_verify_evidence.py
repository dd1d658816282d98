"""Evidence is inside the chain: an entry's attachment digests are hashed with it, and the
bytes held on storage are read back against them. A photo swapped behind the platform's
back (on disk, in the bucket, or row and entry rewritten together) is named by
verify_chains, entry and all."""

from __future__ import annotations

import hashlib
import io
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from civicloop.core.attachments.models import Attachment
from civicloop.core.attachments.services import attachment_create
from civicloop.core.cases.models import Case, TimelineEntry
from civicloop.core.cases.services import transition
from civicloop.core.cases.timeline import chains_verify
from tests.core.cases.helpers import opinion, unit, user

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]


@pytest.fixture
def disk(settings: Any, tmp_path: Path) -> Path:
    """Attachments on a temporary disk, so a test can reach the stored bytes."""
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return tmp_path


def photo(colour: tuple[int, int, int]) -> Attachment:
    picture = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(picture, "JPEG")
    return attachment_create(
        upload=SimpleUploadedFile("p.jpg", picture.getvalue(), content_type="image/jpeg"),
        uploaded_by=None,
    )


def case_with_result_photo() -> tuple[Case, Attachment, int]:
    """An opinion whose result (a later entry, not the opening one) carries a photo;
    returns the case, the photo and the seq of the entry holding it."""
    case = opinion()
    transition(case=case, action="accept", actor=user("station_zeguo"))
    transition(
        case=case,
        action="dispatch",
        actor=user("deputy_wang"),
        unit=unit("town-331081100"),
        grade="town",
    )
    transition(case=case, action="claim", actor=user("handler_zeguo"))
    evidence = photo((10, 200, 10))
    case = transition(
        case=case,
        action="submit_result",
        actor=user("handler_zeguo"),
        note="路灯已修复",
        attachments=[evidence],
    )
    entry = case.timeline.get(action="submit_result")
    assert entry.attachment_digests == [evidence.sha256]
    return case, evidence, entry.seq


def run_verify(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_chains", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def other_jpeg() -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 10, 10)).save(picture, "JPEG")
    return picture.getvalue()


def test_untouched_evidence_verifies(disk: Path, demo_city: None) -> None:
    case_with_result_photo()
    code, out, err = run_verify()
    assert code == 0, err
    assert "every chain holds" in out


def test_an_entrys_digests_rewritten_with_the_photo_row_is_named(
    disk: Path, demo_city: None
) -> None:
    # given a result entry holding a photo, and another case left alone
    case, evidence, seq = case_with_result_photo()
    other = opinion()

    # when the photo is swapped everywhere but the chain: other bytes on storage, the
    # attachment row's digest and the entry's recorded digests rewritten to match them
    forged = other_jpeg()
    forged_digest = hashlib.sha256(forged).hexdigest()
    Path(evidence.file.path).write_bytes(forged)
    Attachment.objects.filter(pk=evidence.pk).update(sha256=forged_digest)
    # (an UPDATE, as someone with SQL access would: the model refuses to save an entry)
    TimelineEntry.objects.filter(case=case, seq=seq).update(attachment_digests=[forged_digest])

    # then verify_chains names that entry of that case as altered, and nothing else
    code, _, err = run_verify()
    assert code == 1
    assert f"{case.number}: entry #{seq} was altered" in err
    assert other.number not in err
    _, breaks = chains_verify(files=False)
    assert [(b.case_number, b.seq) for b in breaks] == [(case.number, seq)]


def test_a_stored_file_swapped_on_storage_is_named(disk: Path, demo_city: None) -> None:
    # given a result entry holding a photo
    case, evidence, seq = case_with_result_photo()
    other = opinion()

    # when the bytes on storage are replaced, the rows and the chain left as they were
    Path(evidence.file.path).write_bytes(other_jpeg())

    # then verify_chains names the case, the entry and the stored file
    code, _, err = run_verify()
    assert code == 1
    assert f"{case.number}: field attachment_file does not match the chain (entry #{seq}" in err
    assert evidence.file.name in err and "another digest" in err
    assert other.number not in err
    # reading files back can be skipped (a quick check of chains and fields only)
    assert run_verify("--no-files")[0] == 0


def test_a_stored_file_gone_from_storage_is_named(disk: Path, demo_city: None) -> None:
    case, evidence, seq = case_with_result_photo()
    Path(evidence.file.path).unlink()

    code, _, err = run_verify()
    assert code == 1
    assert f"{case.number}: field attachment_file" in err
    assert f"entry #{seq}" in err and "missing from storage" in err
