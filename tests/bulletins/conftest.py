"""Fixtures of e线知政 / 学习园地: a small city (one town, the 代表工委, a station), an
editor, two deputies, a town handler and a citizen account; files on a temp storage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from civicloop.bulletins.services import ItemDraft, item_publish
from civicloop.core.accounts.models import User
from civicloop.core.areas.models import Area
from civicloop.core.units.models import Membership, Unit

DATA = Path(__file__).resolve().parent / "data"


@dataclass
class People:
    editor: User
    deputy: User
    deputy2: User
    handler: User
    citizen: User
    outsider: User


def _user(username: str, **extra: Any) -> User:
    user = User(username=username, full_name=extra.pop("full_name", username), **extra)
    user.set_password("pw")
    user.save()
    return user


@pytest.fixture
def people(db: None, settings: Any, tmp_path: Path) -> People:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    city = Area.objects.create(code="331081", name="温岭市", kind="city")
    town = Area.objects.create(code="331081100", name="泽国镇", kind="town", parent=city)
    npc = Unit.objects.create(
        code="dept-npc-deputies", name="代表工委", kind="department", area=city
    )
    station = Unit.objects.create(
        code="station-331081100", name="泽国镇人大代表联络站", kind="station", area=town
    )
    office = Unit.objects.create(
        code="town-331081100", name="泽国镇", kind="town_office", area=town
    )
    editor = _user("npc_office", full_name="钱主任")
    Membership.objects.create(user=editor, unit=npc, role="unit_leader")
    deputy = _user("deputy_wang", full_name="王建国", dingtalk_userid="ding-wang")
    Membership.objects.create(user=deputy, unit=station, role="deputy")
    deputy2 = _user("deputy_001", full_name="陈海燕", dingtalk_userid="ding-001")
    Membership.objects.create(user=deputy2, unit=station, role="deputy")
    handler = _user("handler_zeguo")
    Membership.objects.create(user=handler, unit=office, role="handler")
    citizen = _user("citizen", is_citizen=True)
    outsider = _user("nobody")
    return People(editor, deputy, deputy2, handler, citizen, outsider)


def draft(**fields: Any) -> ItemDraft:
    base: dict[str, Any] = {
        "section": "ezhi",
        "category": "report",
        "title": "2026年温岭市政府工作报告",
        "body": "各位代表：现在，我代表市人民政府向大会报告政府工作。",
    }
    base.update(fields)
    return ItemDraft(**base)


@pytest.fixture
def publish(people: People) -> Any:
    def _publish(**fields: Any) -> Any:
        return item_publish(draft=draft(**fields), actor=people.editor)

    return _publish


def video_upload(name: str = "clip.webm", content_type: str = "video/webm") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (DATA / name).read_bytes(), content_type)


def pdf_bytes() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (100, 140), 255).save(out, format="PDF")
    return out.getvalue()


def png_bytes() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 80, 140)).save(out, format="PNG")
    return out.getvalue()
