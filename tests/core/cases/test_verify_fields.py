"""verify_chains checks the case row against its chain: a field changed behind the
platform's back (body, title, contact, result, rating, attachments) is named."""

from __future__ import annotations

import io
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from PIL import Image

from civicloop.core.attachments.models import Attachment
from civicloop.core.attachments.services import attachment_create
from civicloop.core.cases.models import Case
from civicloop.core.cases.services import transition
from civicloop.core.cases.timeline import chains_verify
from tests.core.cases.helpers import opinion, unit, user

# needs_modules: uses the opinions module's channel, units or pages (collected only
# when it is enabled).
pytestmark = [pytest.mark.django_db, pytest.mark.needs_modules("opinions")]


def rated_case() -> Case:
    """An opinion handled by the town, its result submitted and rated 满意."""
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
    transition(case=case, action="submit_result", actor=user("handler_zeguo"), note="路灯已修复")
    return transition(
        case=case, action="rate", actor=user("deputy_wang"), rating="satisfied", note="很及时"
    )


def tamper(case: Case, **columns: str) -> None:
    """Change the case row in the database directly, as someone with SQL access would."""
    sets = ", ".join(f"{name} = %s" for name in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Case._meta.db_table} SET {sets} WHERE id = %s",
            [*columns.values(), case.pk],
        )


def run_verify() -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_chains", stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_an_untouched_rated_case_matches_its_chain(demo_city: None) -> None:
    # given a case carried through result and rating
    rated_case()
    # when the chains are verified, then every case matches
    code, out, err = run_verify()
    assert code == 0, err
    assert "every chain holds" in out


@pytest.mark.parametrize(
    ("column", "value", "field"),
    [
        ("body", "被改过的内容", "body"),
        ("title", "被改过的标题", "title"),
        ("result", "从未修复", "result"),
        ("rating", "unsatisfied", "rating"),
        ("rating_comment", "很差", "rating_comment"),
    ],
)
def test_a_field_changed_in_the_database_is_named(
    demo_city: None, column: str, value: str, field: str
) -> None:
    # given a rated case and another one left alone
    case = rated_case()
    other = opinion()

    # when one of its columns is changed in the database, the timeline left intact
    tamper(case, **{column: value})

    # then verify_chains exits 1 naming that case and that field, and only that case
    code, _, err = run_verify()
    assert code == 1
    assert f"{case.number}: field {field} does not match the chain" in err
    assert other.number not in err


def test_a_result_or_rating_added_where_the_chain_has_none_is_named(demo_city: None) -> None:
    # given a case that was never answered, and one that was never rated
    unanswered = opinion()
    unrated = opinion()

    # when a result and a rating are written into them directly
    tamper(unanswered, result="已办结")
    tamper(unrated, rating="satisfied")

    # then both are named with their field
    _, breaks = chains_verify()
    named = {(found.case_number, found.field) for found in breaks}
    assert named == {(unanswered.number, "result"), (unrated.number, "rating")}


def test_a_changed_contact_is_named(demo_city: None) -> None:
    # given a case, when its (encrypted) phone is replaced through the ORM's encryption
    case = opinion()
    Case.objects.filter(pk=case.pk).update(contact_phone="13800000000")

    # then the contact no longer matches the digest the opening entry recorded
    code, _, err = run_verify()
    assert code == 1 and f"{case.number}: field contact does not match" in err


def test_a_changed_attachment_digest_is_named(demo_city: None, settings, tmp_path: Path) -> None:
    # given a case submitted with a photo
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    picture = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 200, 10)).save(picture, "JPEG")
    photo = attachment_create(
        upload=SimpleUploadedFile("p.jpg", picture.getvalue(), content_type="image/jpeg"),
        uploaded_by=None,
    )
    case = opinion(attachments=[photo])
    assert run_verify()[0] == 0

    # when the attachment row is swapped for other bytes' digest
    Attachment.objects.filter(pk=photo.pk).update(sha256="0" * 64)

    # then the attachments of the opening entry are named
    code, _, err = run_verify()
    assert code == 1 and f"{case.number}: field attachments does not match" in err
