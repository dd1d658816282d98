"""Writes of e线知政 / 学习园地: publishing an item (text, tags, images, PDFs, videos,
its search index and the deputies' notices, in one transaction), withdrawing it, and a
deputy's reading (opened, time on the page, finished)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.bulletins import search
from civicloop.bulletins.access import check_editor, check_reader
from civicloop.bulletins.errors import BulletinError, BulletinErrorCode
from civicloop.bulletins.media import VideoFormat, video_sniff
from civicloop.bulletins.models import (
    SECTION_CATEGORIES,
    Item,
    ItemFile,
    ItemVideo,
    ReadRecord,
    Section,
    Tag,
)
from civicloop.bulletins.selectors import deputy_users
from civicloop.core.accounts.models import User
from civicloop.core.attachments.errors import AttachmentError
from civicloop.core.attachments.models import Attachment
from civicloop.core.attachments.services import attachments_create_batch
from civicloop.core.cases.services import clean_text
from civicloop.core.outbox.services import OutboxDraft, outbox_enqueue_many

TITLE_MAX = 120
SUMMARY_MAX = 300
BODY_MAX = 50_000
TAGS_MAX = 8
TAG_MAX_CHARS = 20
IMAGES_MAX = 9
DOCUMENTS_MAX = 5
VIDEOS_MAX = 2
# A DingTalk work notice reaches at most 100 user ids per call (asyncsend_v2).
DINGTALK_USERIDS_PER_MESSAGE = 100
# A page reports time spent every HEARTBEAT_SECONDS; one beat never adds more than
# HEARTBEAT_MAX_SECONDS, nor more than the time since the last beat (plus a little), so a
# tab cannot claim hours it was not open.
HEARTBEAT_SECONDS = 15
HEARTBEAT_MAX_SECONDS = 60
HEARTBEAT_SLACK_SECONDS = 5
_TAG_SPLIT = re.compile(r"[,，、;；\s]+")


def video_max_bytes() -> int:
    return int(getattr(settings, "BULLETINS_VIDEO_MAX_BYTES", 200 * 1024 * 1024))


@dataclass
class ItemDraft:
    """What the publish form sent (parsed, not yet trusted)."""

    section: str
    category: str
    title: str
    body: str
    summary: str = ""
    tags: str = ""
    required: bool = False
    due_date: date | None = None
    images: Sequence[UploadedFile] = field(default_factory=list)
    documents: Sequence[UploadedFile] = field(default_factory=list)
    videos: Sequence[UploadedFile] = field(default_factory=list)
    source: str = ""


def _check_draft(draft: ItemDraft) -> tuple[str, str, str, list[str]]:
    """(title, summary, body, tag names) of a draft whose fields are all acceptable."""
    if draft.section not in SECTION_CATEGORIES:
        raise BulletinError(BulletinErrorCode.INVALID, _("请选择栏目。"), field="section")
    if draft.category not in SECTION_CATEGORIES[draft.section]:
        raise BulletinError(
            BulletinErrorCode.INVALID, _("请选择该栏目下的分类。"), field="category"
        )
    title = clean_text(draft.title)
    body = clean_text(draft.body)
    summary = clean_text(draft.summary)
    if not title:
        raise BulletinError(BulletinErrorCode.MISSING, _("请填写标题。"), field="title")
    if len(title) > TITLE_MAX:
        raise BulletinError(
            BulletinErrorCode.INVALID, _("标题最多 %(max)d 字。"), field="title", max=TITLE_MAX
        )
    if not body:
        raise BulletinError(BulletinErrorCode.MISSING, _("请填写正文。"), field="body")
    if len(body) > BODY_MAX:
        raise BulletinError(
            BulletinErrorCode.INVALID, _("正文最多 %(max)d 字。"), field="body", max=BODY_MAX
        )
    if len(summary) > SUMMARY_MAX:
        raise BulletinError(
            BulletinErrorCode.INVALID, _("摘要最多 %(max)d 字。"), field="summary", max=SUMMARY_MAX
        )
    tags = list(dict.fromkeys(t for t in _TAG_SPLIT.split(clean_text(draft.tags)) if t))
    if len(tags) > TAGS_MAX or any(len(t) > TAG_MAX_CHARS for t in tags):
        raise BulletinError(
            BulletinErrorCode.INVALID,
            _("最多 %(max)d 个标签，每个不超过 %(chars)d 字。"),
            field="tags",
            max=TAGS_MAX,
            chars=TAG_MAX_CHARS,
        )
    if draft.due_date is not None and not draft.required:
        raise BulletinError(
            BulletinErrorCode.INVALID, _("只有必读（必学）内容才设完成期限。"), field="due_date"
        )
    for name, files, limit in (
        ("images", draft.images, IMAGES_MAX),
        ("documents", draft.documents, DOCUMENTS_MAX),
        ("videos", draft.videos, VIDEOS_MAX),
    ):
        if len(files) > limit:
            raise BulletinError(
                BulletinErrorCode.INVALID, _("最多上传 %(max)d 个文件。"), field=name, max=limit
            )
    return title, summary, body, tags


def _check_pdfs(documents: Sequence[UploadedFile]) -> None:
    """Documents of an item are PDFs: refused by content before core reads them whole
    (core then checks the PDF as a document)."""
    for upload in documents:
        upload.seek(0)
        head = upload.read(5)
        upload.seek(0)
        if head != b"%PDF-":
            raise BulletinError(
                BulletinErrorCode.FILE,
                _("“%(name)s”不是 PDF 文件，文档请上传 PDF。"),
                field="documents",
                name=(upload.name or "")[:40],
            )


def _store_attachments(
    uploads: Sequence[UploadedFile], *, kinds: frozenset[str], actor: User, field_name: str
) -> list[Attachment]:
    try:
        return attachments_create_batch(uploads=uploads, uploaded_by=actor, allowed_kinds=kinds)
    except AttachmentError as refused:
        raise BulletinError(BulletinErrorCode.FILE, refused.message, field=field_name) from None


def check_video(upload: UploadedFile) -> VideoFormat:
    """A video upload's format, refused by size (413) or by content (not MP4/WebM with a
    video track) before anything is stored."""
    limit = video_max_bytes()
    size = upload.size or 0
    if size == 0:
        raise BulletinError(BulletinErrorCode.FILE, _("文件是空的，请重新选择"), field="videos")
    if size > limit:
        raise BulletinError(
            BulletinErrorCode.VIDEO_TOO_LARGE,
            _("视频过大（最大 %(limit)s MB），请压缩后再上传。"),
            field="videos",
            limit=limit // (1024 * 1024),
        )
    return video_sniff(upload, size=size)


def video_store(*, item: Item, upload: UploadedFile, actor: User) -> ItemVideo:
    """Check a video by its content (MP4/WebM with a video track) and size, and store it
    under a uuid name. The file is streamed to storage, never held whole in memory."""
    fmt = check_video(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    video = ItemVideo(
        item=item,
        original_name=(upload.name or "")[-200:],
        content_type=fmt.content_type,
        size=upload.size or 0,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
    )
    video.file.save(f"video{fmt.extension}", upload, save=False)
    video.save(force_insert=True)
    return video


def _notice_drafts(item: Item) -> list[OutboxDraft]:
    """DingTalk work notices to every deputy with a DingTalk account, 100 to a message;
    keyed on the item and the batch, so a repeat sends nothing twice."""
    userids = sorted(
        set(deputy_users().exclude(dingtalk_userid="").values_list("dingtalk_userid", flat=True))
    )
    section = str(Section(item.section).label)
    mark = "【必读】" if item.required else ""
    due = f"\n\n请于 {item.due_date:%Y-%m-%d} 前完成。" if item.due_date else ""
    link = f"{settings.SITE_URL}/bulletins/items/{item.pk}/"
    drafts = []
    for start in range(0, len(userids), DINGTALK_USERIDS_PER_MESSAGE):
        batch = userids[start : start + DINGTALK_USERIDS_PER_MESSAGE]
        payload = {
            "userids": batch,
            "title": f"{section}新内容",
            "text": f"{mark}**{item.title}**\n\n{item.summary or ''}{due}\n\n[查看]({link})",
        }
        key = f"bulletin:{item.pk}:notice:{start // DINGTALK_USERIDS_PER_MESSAGE}"
        drafts.append(OutboxDraft("dingtalk_work", payload, key, f"bulletin-{item.pk}"))
    return drafts


def item_publish(
    *, draft: ItemDraft, actor: User, now: datetime | None = None, notify: bool = True
) -> Item:
    """Publish an item. Guarantees: only the 代表工委 or an administrator publishes; every
    field and file is checked (files by content) before anything is stored; the item, its
    tags, files, search index and the deputies' DingTalk notices commit together
    (`notify=False`: no notices, for items loaded from elsewhere, as the demo's)."""
    check_editor(actor)
    title, summary, body, tag_names = _check_draft(draft)
    _check_pdfs(draft.documents)
    for upload in draft.videos:
        check_video(upload)
    now = now or timezone.now()
    with transaction.atomic():
        images = _store_attachments(
            draft.images,
            kinds=frozenset({Attachment.Kind.PHOTO}),
            actor=actor,
            field_name="images",
        )
        documents = _store_attachments(
            draft.documents,
            kinds=frozenset({Attachment.Kind.DOCUMENT}),
            actor=actor,
            field_name="documents",
        )
        item = Item.objects.create(
            section=draft.section,
            category=draft.category,
            title=title,
            summary=summary,
            body=body,
            required=draft.required,
            due_date=draft.due_date,
            published_at=now,
            author=actor,
            source=draft.source,
        )
        item.tags.set([Tag.objects.get_or_create(name=name)[0] for name in tag_names])
        ItemFile.objects.bulk_create(
            [
                ItemFile(item=item, attachment=attachment, position=i)
                for i, attachment in enumerate([*images, *documents])
            ]
        )
        for upload in draft.videos:
            video_store(item=item, upload=upload, actor=actor)
        search.item_index(item)
        if notify:
            outbox_enqueue_many(drafts=_notice_drafts(item))
    return item


def item_withdraw(*, item: Item, actor: User) -> Item:
    """Withdraw an item: readers no longer see it; its reading records are kept."""
    check_editor(actor)
    Item.objects.filter(pk=item.pk).update(is_withdrawn=True)
    item.is_withdrawn = True
    return item


class ReadEvent:
    OPEN = "open"
    HEARTBEAT = "heartbeat"
    FINISH = "finish"
    ALL = (OPEN, HEARTBEAT, FINISH)


def reading_record(
    *, item: Item, user: User, event: str, seconds: int = 0, now: datetime | None = None
) -> ReadRecord:
    """Record a reader's reading of `item`: the first event sets `started_at`; a
    heartbeat adds the seconds reported, bounded by the time since the last event; a
    finish also sets `finished_at` (once). Concurrent beats of two tabs are serialised
    on the record's row."""
    check_reader(user)
    if event not in ReadEvent.ALL:
        raise BulletinError(BulletinErrorCode.INVALID, field="event")
    now = now or timezone.now()
    with transaction.atomic():
        record, created = ReadRecord.objects.get_or_create(
            item=item, user=user, defaults={"started_at": now, "last_seen_at": now}
        )
        if not created:
            record = ReadRecord.objects.select_for_update().get(pk=record.pk)
        if event != ReadEvent.OPEN and not created:
            elapsed = max((now - record.last_seen_at).total_seconds(), 0)
            added = min(
                max(int(seconds), 0),
                HEARTBEAT_MAX_SECONDS,
                int(elapsed) + HEARTBEAT_SLACK_SECONDS,
            )
            record.seconds += added
        record.last_seen_at = max(now, record.last_seen_at)
        if event == ReadEvent.FINISH and record.finished_at is None:
            record.finished_at = now
        record.save(update_fields=["seconds", "last_seen_at", "finished_at"])
    return record


def reading_import(
    *,
    item: Item,
    user: User,
    started_at: datetime,
    seconds: int,
    finished: bool,
) -> ReadRecord:
    """A reading recorded elsewhere (the demo, an import from the old platform): kept as
    given, once per item and reader."""
    finished_at = started_at + timedelta(seconds=seconds) if finished else None
    record, _created = ReadRecord.objects.get_or_create(
        item=item,
        user=user,
        defaults={
            "started_at": started_at,
            "last_seen_at": started_at + timedelta(seconds=seconds),
            "finished_at": finished_at,
            "seconds": seconds,
        },
    )
    return record


# A required item's reminder goes out this many days before its due date, once.
REMINDER_DAYS_BEFORE = 3


def required_reminders_send(*, now: datetime | None = None) -> int:
    """DingTalk reminders to the deputies who have not finished a required item due within
    REMINDER_DAYS_BEFORE days (and not yet past due). A sweep: keyed on the item and the
    batch of deputies' ids, so running it again, late or twice sends nothing twice.
    Returns how many messages were new."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    due_items = Item.objects.filter(
        is_withdrawn=False,
        required=True,
        due_date__gte=today,
        due_date__lte=today + timedelta(days=REMINDER_DAYS_BEFORE),
    )
    drafts: list[OutboxDraft] = []
    for item in due_items:
        done = ReadRecord.objects.filter(item=item, finished_at__isnull=False).values("user_id")
        userids = sorted(
            set(
                deputy_users()
                .exclude(pk__in=done)
                .exclude(dingtalk_userid="")
                .values_list("dingtalk_userid", flat=True)
            )
        )
        link = f"{settings.SITE_URL}/bulletins/items/{item.pk}/"
        for start in range(0, len(userids), DINGTALK_USERIDS_PER_MESSAGE):
            batch = userids[start : start + DINGTALK_USERIDS_PER_MESSAGE]
            digest = hashlib.sha256(",".join(batch).encode()).hexdigest()[:16]
            payload = {
                "userids": batch,
                "title": "必读内容即将到期",
                "text": f"**{item.title}**\n\n请于 {item.due_date:%Y-%m-%d} 前完成阅读。\n\n"
                f"[查看]({link})",
            }
            key = f"bulletin:{item.pk}:remind:{digest}"
            drafts.append(OutboxDraft("dingtalk_work", payload, key, f"bulletin-{item.pk}"))
    with transaction.atomic():
        return outbox_enqueue_many(drafts=drafts)


VIDEO_PREFIX = "bulletins/videos"


def videos_sweep_orphans(*, older_than: timedelta = timedelta(hours=24)) -> list[str]:
    """Delete video files no ItemVideo row names: written by a publish whose transaction
    then rolled back (a later file refused, a crash before commit). Files younger than
    `older_than` are kept, as their row may belong to a transaction still in flight.
    Returns the names deleted."""
    storage = ItemVideo._meta.get_field("file").storage  # type: ignore[union-attr]
    cutoff = timezone.now() - older_than

    def walk(directory: str) -> list[str]:
        try:
            directories, files = storage.listdir(directory)
        except FileNotFoundError:
            return []
        names = [f"{directory}/{name}" for name in files]
        for sub in directories:
            names.extend(walk(f"{directory}/{sub}"))
        return names

    names = walk(VIDEO_PREFIX)
    known = set(ItemVideo.objects.filter(file__in=names).values_list("file", flat=True))
    orphans = [n for n in names if n not in known and storage.get_modified_time(n) < cutoff]
    for name in orphans:
        storage.delete(name)
    return orphans
