"""Who may read, publish and report on e线知政 / 学习园地, and the `access_*_by_*`
functions that fetch a record and enforce that in one step.

- Readers: deputies (role "deputy" in a unit) and staff (a unit member, an area leader,
  an administrator); never a citizen account nor an anonymous visitor.
- Editors (publish, withdraw) and the reading report: the 代表工委 (unit
  `dept-npc-deputies`, any role) and administrators."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.utils.translation import gettext_lazy as _

from civicloop.bulletins.errors import BulletinError, BulletinErrorCode
from civicloop.bulletins.models import Item, ItemFile, ItemVideo
from civicloop.core.units.selectors import user_standing

DEPUTY_ROLE = "deputy"
NPC_OFFICE_UNIT = "dept-npc-deputies"  # 人大常委会代表工委


def is_reader(user: Any) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if getattr(user, "is_citizen", False):
        return False
    standing = user_standing(user)
    return bool(standing.is_admin or standing.unit_ids or standing.area_paths)


def is_deputy(user: Any) -> bool:
    if not is_reader(user):
        return False
    return DEPUTY_ROLE in user_standing(user).roles()


def is_editor(user: Any) -> bool:
    if not is_reader(user):
        return False
    standing = user_standing(user)
    return standing.is_admin or standing.in_unit_coded(NPC_OFFICE_UNIT)


def check_reader(user: Any) -> None:
    if not is_reader(user):
        raise BulletinError(BulletinErrorCode.FORBIDDEN)


def check_editor(user: Any) -> None:
    if not is_editor(user):
        raise BulletinError(
            BulletinErrorCode.FORBIDDEN, _("只有人大常委会代表工委可以发布和查看阅读统计。")
        )


def access_item_by_id(user: Any, item_id: int) -> Item:
    """The item, if the user may read it (withdrawn items: editors only); else a
    refusal (403 to a non-reader, 404 to a reader for what they may not see)."""
    check_reader(user)
    item = (
        Item.objects.filter(pk=item_id)
        .select_related("author")
        .prefetch_related("tags", "files__attachment", "videos")
        .first()
    )
    if item is None or (item.is_withdrawn and not is_editor(user)):
        raise BulletinError(BulletinErrorCode.NOT_FOUND)
    return item


def access_video_by_id(user: Any, video_id: UUID) -> ItemVideo:
    check_reader(user)
    video = ItemVideo.objects.select_related("item").filter(pk=video_id).first()
    if video is None or (video.item.is_withdrawn and not is_editor(user)):
        raise BulletinError(BulletinErrorCode.NOT_FOUND)
    return video


def access_file_by_attachment_id(user: Any, attachment_id: UUID) -> ItemFile:
    check_reader(user)
    found = (
        ItemFile.objects.select_related("item", "attachment")
        .filter(attachment_id=attachment_id)
        .first()
    )
    if found is None or (found.item.is_withdrawn and not is_editor(user)):
        raise BulletinError(BulletinErrorCode.NOT_FOUND)
    return found
