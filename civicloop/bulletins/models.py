"""e线知政 (information to deputies) and 学习园地 (the learning corner): items staff
publish, their files, the search index over their text, and each deputy's reading.

Images and PDFs are core attachments (checked and re-encoded by core); a video is held
here (`ItemVideo`), because core's attachments take no video: it is checked by content
in `media.py` and served with HTTP range requests (`ranges.py`)."""

from __future__ import annotations

import uuid
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Section(models.TextChoices):
    EZHI = "ezhi", _("e线知政")
    LEARNING = "learning", _("学习园地")


class Category(models.TextChoices):
    """The categories of both sections (`SECTION_CATEGORIES` says which belongs where)."""

    REPORT = "report", _("政府工作报告")
    BUDGET = "budget", _("预算执行")
    POLICY = "policy", _("政策解读")
    NOTICE = "notice", _("通知公告")
    NEWS = "news", _("工作动态")
    TRAINING = "training", _("履职培训")
    LAW = "law", _("法律法规")
    LECTURE = "lecture", _("专题讲座")
    EXPERIENCE = "experience", _("经验交流")


SECTION_CATEGORIES: dict[str, tuple[str, ...]] = {
    Section.EZHI: (
        Category.REPORT,
        Category.BUDGET,
        Category.POLICY,
        Category.NOTICE,
        Category.NEWS,
    ),
    Section.LEARNING: (Category.TRAINING, Category.LAW, Category.LECTURE, Category.EXPERIENCE),
}


class Tag(models.Model):
    name = models.CharField(_("标签"), max_length=20, unique=True)

    class Meta:
        verbose_name = _("标签")
        verbose_name_plural = _("标签")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Item(models.Model):
    """One published piece: a report, a notice, a policy explainer, a course.

    `search_title` and `search_body` hold the item's search tokens (`search.py`), kept
    in the same save as the text; PostgreSQL indexes them with a GIN full-text index,
    other databases through `SearchGram` rows."""

    section = models.CharField(_("栏目"), max_length=16, choices=Section.choices)
    category = models.CharField(_("分类"), max_length=16, choices=Category.choices)
    title = models.CharField(_("标题"), max_length=120)
    summary = models.CharField(_("摘要"), max_length=300, blank=True, default="")
    body = models.TextField(_("正文"))
    tags = models.ManyToManyField(Tag, blank=True, related_name="items", verbose_name=_("标签"))
    required = models.BooleanField(
        _("必读/必学"), default=False, help_text=_("代表须阅读（学习）完成的内容")
    )
    due_date = models.DateField(_("完成期限"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now, db_index=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("发布人"),
    )
    source = models.CharField(_("来源"), max_length=16, blank=True, default="")
    is_withdrawn = models.BooleanField(_("已撤回"), default=False)
    search_title = models.TextField(blank=True, default="", editable=False)
    search_body = models.TextField(blank=True, default="", editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("知政学习内容")
        verbose_name_plural = _("知政学习内容")
        ordering = ["-published_at", "-id"]
        indexes = [
            models.Index(fields=["section", "-published_at"], name="bulletin_section_pub_idx"),
            models.Index(fields=["required", "-published_at"], name="bulletin_required_pub_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class ItemFile(models.Model):
    """An image or a document (PDF) of an item: a core attachment, checked by core."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="files")
    attachment = models.OneToOneField(
        "attachments.Attachment", on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return str(self.attachment_id)


def video_upload_to(instance: Any, filename: str) -> str:
    """bulletins/videos/YYYY/MM/<uuid><ext>: never the client's file name."""
    extension = PurePosixPath(filename).suffix.lower()
    day = timezone.localdate()
    return f"bulletins/videos/{day:%Y/%m}/{instance.pk.hex}{extension}"


class ItemVideo(models.Model):
    """A video of an item (MP4 or WebM with a video track), stored as uploaded."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="videos")
    file = models.FileField(_("文件"), upload_to=video_upload_to, max_length=255)
    original_name = models.CharField(_("原文件名"), max_length=255, blank=True, default="")
    content_type = models.CharField(_("内容类型"), max_length=50)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256 摘要"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("视频")
        verbose_name_plural = _("视频")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.original_name or str(self.pk)


class SearchGram(models.Model):
    """One search token of an item (a CJK bigram or unigram, or a Latin word) with its
    weighted count: the n-gram index used where PostgreSQL's full text is not."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="+")
    gram = models.CharField(max_length=40)
    weight = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["gram", "item"], name="bulletin_gram_item_unique")
        ]

    def __str__(self) -> str:
        return self.gram


class ReadRecord(models.Model):
    """A deputy's reading (or study) of one item: when they opened it first, when they
    finished, and the time spent on the page (from the page's heartbeats)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="reads")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bulletin_reads"
    )
    started_at = models.DateTimeField(_("开始时间"))
    last_seen_at = models.DateTimeField(_("最近活动"))
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    seconds = models.PositiveIntegerField(_("用时（秒）"), default=0)

    class Meta:
        verbose_name = _("阅读记录")
        verbose_name_plural = _("阅读记录")
        ordering = ["-started_at"]
        constraints = [models.UniqueConstraint(fields=["item", "user"], name="bulletin_read_once")]
        indexes = [models.Index(fields=["user", "started_at"], name="bulletin_read_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.item_id}"
