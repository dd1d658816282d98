from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from civicloop.core.attachments.services import attachment_create
from tests.core.attachments.conftest import image_bytes, make_upload

pytestmark = pytest.mark.django_db


@pytest.mark.filterwarnings("ignore:No directory at:UserWarning")
def test_admin_lists_read_only(admin_client) -> None:
    attachment = attachment_create(upload=make_upload("现场.jpg", image_bytes()), uploaded_by=None)
    changelist = admin_client.get(reverse("admin:attachments_attachment_changelist"))
    assert changelist.status_code == 200
    assert "现场.jpg" in changelist.content.decode()
    assert admin_client.get(reverse("admin:attachments_attachment_add")).status_code == 403
    detail = admin_client.get(reverse("admin:attachments_attachment_change", args=[attachment.pk]))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()


def test_sweep_command_dry_run(capsys) -> None:
    call_command("attachments_sweep_orphans", "--older-than-hours", "0", "--dry-run")
    assert "would delete 0 orphan file(s)" in capsys.readouterr().out
