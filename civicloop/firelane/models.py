"""生命通道: sites, their fire lanes and cameras, what the cameras saw, the stays those
sightings add up to, the notices (告知单) and their payments, and the local mirror of the
provincial vehicle registry.

A stay that reaches the warning threshold becomes a `Case` on the fire-lane channel;
everything after that (review, notice, statement, payment) moves that case through the
`firelane` workflow template (hooks.py)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicloop.core.accounts.crypto import EncryptedTextField


class PlateColor(models.TextChoices):
    BLUE = "blue", _("蓝牌")
    YELLOW = "yellow", _("黄牌")
    GREEN = "green", _("绿牌（新能源）")
    WHITE = "white", _("白牌")
    BLACK = "black", _("黑牌")


class Site(models.Model):
    """A compound (小区) or building whose fire lanes are watched."""

    class Kind(models.TextChoices):
        COMPOUND = "compound", _("住宅小区")
        HIGHRISE = "highrise", _("高层建筑")
        OTHER = "other", _("其他")

    code = models.SlugField(_("编码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.COMPOUND)
    address = models.CharField(_("地址"), max_length=200)
    area = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("所在区域")
    )
    unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        related_name="firelane_sites",
        verbose_name=_("管理单位"),
        help_text=_("物业或管理单位：接收提醒和摄像机离线通知。"),
    )
    enforcement_unit = models.ForeignKey(
        "units.Unit",
        on_delete=models.PROTECT,
        related_name="firelane_enforced_sites",
        verbose_name=_("执法单位"),
        help_text=_("审核证据、开具告知单的单位（消防救援大队）。"),
    )
    warn_after_s = models.PositiveIntegerField(
        _("提醒阈值（秒）"), default=300, help_text=_("车辆停留达到该时长时短信提醒车主（T1）。")
    )
    notice_after_s = models.PositiveIntegerField(
        _("告知阈值（秒）"),
        default=1800,
        help_text=_("停留达到该时长时生成证据，待执法人员审核（T2）。"),
    )
    gap_s = models.PositiveIntegerField(
        _("容许间隔（秒）"),
        default=180,
        help_text=_("同一车辆两次抓拍之间不超过该间隔视为同一次停留。"),
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("场所")
        verbose_name_plural = _("场所")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Camera(models.Model):
    class Vendor(models.TextChoices):
        HIKVISION = "hikvision", _("海康威视（ISAPI）")
        FRIGATE = "frigate", _("Frigate NVR（MQTT）")
        OTHER = "other", _("其他（JSON 接口）")

    class Status(models.TextChoices):
        ONLINE = "online", _("在线")
        OFFLINE = "offline", _("离线")
        DISABLED = "disabled", _("停用")

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="cameras")
    serial = models.CharField(_("序列号"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    vendor = models.CharField(_("厂商"), max_length=16, choices=Vendor.choices)
    ip_allowlist = models.CharField(
        _("IP 白名单"),
        max_length=500,
        blank=True,
        default="",
        help_text=_("允许推送的地址或网段，以空格或逗号分隔，如 10.8.0.0/24 127.0.0.1。"),
    )
    clock_offset_s = models.IntegerField(
        _("时钟偏差（秒）"), default=0, help_text=_("摄像机时钟减去标准时间；正数表示摄像机走快。")
    )
    heartbeat_interval_s = models.PositiveIntegerField(_("心跳间隔（秒）"), default=300)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.OFFLINE
    )
    last_seen_at = models.DateTimeField(_("最后在线"), null=True, blank=True)
    offline_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    image_width = models.PositiveIntegerField(_("画面宽度"), default=1920)
    image_height = models.PositiveIntegerField(_("画面高度"), default=1080)

    class Meta:
        verbose_name = _("摄像机")
        verbose_name_plural = _("摄像机")
        ordering = ["site__code", "serial"]

    def __str__(self) -> str:
        return f"{self.name} ({self.serial})"

    def heard_within_heartbeat(self, *, now: datetime) -> bool:
        """Whether the camera has reported within its heartbeat interval (online)."""
        return self.last_seen_at is not None and self.last_seen_at >= now - timedelta(
            seconds=self.heartbeat_interval_s
        )


class Lane(models.Model):
    """A fire lane as drawn on one camera's image: a polygon of [x, y] points, each a
    fraction (0–1) of the image width and height, so it survives a resolution change."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="lanes")
    name = models.CharField(_("名称"), max_length=100)
    polygon = models.JSONField(_("多边形"), default=list)

    class Meta:
        verbose_name = _("消防车通道")
        verbose_name_plural = _("消防车通道")
        ordering = ["camera_id", "pk"]

    def __str__(self) -> str:
        return self.name


class Sighting(models.Model):
    """One camera event, stored once: a replay of the same event finds this row."""

    class Source(models.TextChoices):
        ISAPI = "isapi", "ISAPI"
        MQTT = "mqtt", "MQTT"
        API = "api", "API"
        SIMULATOR = "simulator", _("模拟器")

    class Check(models.TextChoices):
        PENDING = "pending", _("待识别")
        AGREED = "agreed", _("一致")
        REVIEW = "review", _("待人工核对")
        CONFIRMED = "confirmed", _("人工已核对")
        NO_PLATE = "no_plate", _("无车牌")
        REJECTED = "rejected", _("已排除")

    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="sightings")
    source = models.CharField(max_length=16, choices=Source.choices)
    event_key = models.CharField(max_length=128)
    camera_time = models.DateTimeField(_("摄像机时间"))
    taken_at = models.DateTimeField(_("抓拍时间（校正后）"), db_index=True)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)
    camera_plate = models.CharField(_("摄像机车牌"), max_length=16, blank=True, default="")
    camera_color = models.CharField(max_length=8, blank=True, default="")
    camera_confidence = models.FloatField(null=True, blank=True)
    plate = models.CharField(_("车牌"), max_length=16, blank=True, default="", db_index=True)
    color = models.CharField(_("颜色"), max_length=8, blank=True, default="")
    confidence = models.FloatField(null=True, blank=True)
    plate_check = models.CharField(max_length=16, choices=Check.choices, default=Check.PENDING)
    # Where the plate was in the scene, as [x1, y1, x2, y2] fractions of the image.
    box = models.JSONField(null=True, blank=True)
    scene = models.FileField(max_length=255, blank=True, default="")
    scene_sha256 = models.CharField(max_length=64, blank=True, default="")
    crop = models.FileField(max_length=255, blank=True, default="")
    crop_sha256 = models.CharField(max_length=64, blank=True, default="")
    lane = models.ForeignKey(Lane, on_delete=models.SET_NULL, null=True, blank=True)
    stay = models.ForeignKey(
        "Stay", on_delete=models.SET_NULL, null=True, blank=True, related_name="sightings"
    )
    # Why the event needs a second look: clock_skew, low_confidence, disagreement ...
    flags = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("抓拍记录")
        verbose_name_plural = _("抓拍记录")
        constraints = [
            models.UniqueConstraint(fields=["camera", "event_key"], name="sighting_once")
        ]
        indexes = [
            models.Index(
                fields=["received_at"],
                name="sighting_pending",
                condition=Q(plate_check="pending"),
            ),
            # A camera's latest picture (the lane editor) without scanning its history.
            models.Index(fields=["camera", "-taken_at"], name="sighting_camera_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.camera_id}:{self.event_key}"


class IntakeRefusal(models.Model):
    """Refused camera events, counted per day, source, reason and claimed serial."""

    day = models.DateField()
    source = models.CharField(max_length=16)
    reason = models.CharField(max_length=32)
    serial = models.CharField(max_length=64, blank=True, default="")
    count = models.PositiveIntegerField(default=0)
    last_at = models.DateTimeField(default=timezone.now)
    last_detail = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        verbose_name = _("拒收的摄像机事件")
        verbose_name_plural = _("拒收的摄像机事件")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "source", "reason", "serial"], name="refusal_counter"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.source} {self.reason} ×{self.count}"


class Exemption(models.Model):
    """A vehicle (or, with no plate, a whole site at certain hours) that is never warned."""

    class Kind(models.TextChoices):
        FIRE_ENGINE = "fire_engine", _("消防车")
        AMBULANCE = "ambulance", _("救护车")
        SERVICE = "service", _("登记的作业车辆")
        WINDOW = "window", _("时段豁免")

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    plate = models.CharField(_("车牌"), max_length=16, blank=True, default="", db_index=True)
    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, null=True, blank=True, help_text=_("留空表示所有场所")
    )
    valid_from = models.DateTimeField(_("生效时间"), null=True, blank=True)
    valid_until = models.DateTimeField(_("失效时间"), null=True, blank=True)
    daily_start = models.TimeField(_("每日开始"), null=True, blank=True)
    daily_end = models.TimeField(_("每日结束"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("豁免")
        verbose_name_plural = _("豁免")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.plate}".strip()


class Stay(models.Model):
    """One vehicle's continuous stay on one lane: sightings merged across short gaps."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="stays")
    lane = models.ForeignKey(Lane, on_delete=models.PROTECT, related_name="stays")
    plate = models.CharField(_("车牌"), max_length=16, db_index=True)
    color = models.CharField(_("颜色"), max_length=8, blank=True, default="")
    started_at = models.DateTimeField(_("开始时间"))
    last_seen_at = models.DateTimeField(_("最后抓拍"))
    ended_at = models.DateTimeField(_("驶离时间"), null=True, blank=True)
    sightings_count = models.PositiveIntegerField(default=0)
    exempt_reason = models.CharField(_("豁免原因"), max_length=100, blank=True, default="")
    warned_at = models.DateTimeField(_("提醒时间"), null=True, blank=True)
    eligible_at = models.DateTimeField(_("达到告知阈值"), null=True, blank=True)
    # Set when the warning could not be sent yet (registry down); the sweep tries again.
    warn_error = models.CharField(max_length=100, blank=True, default="")
    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="firelane_stay"
    )

    class Meta:
        verbose_name = _("停留")
        verbose_name_plural = _("停留")
        indexes = [
            models.Index(fields=["lane", "plate"], name="stay_open", condition=Q(ended_at=None)),
            models.Index(fields=["site", "started_at"], name="stay_site_day"),
        ]

    def __str__(self) -> str:
        return f"stay {self.pk} lane {self.lane_id}"

    @property
    def duration_s(self) -> int:
        """The stay's duration (`stay_duration_s`)."""
        return stay_duration_s(started_at=self.started_at, last_seen_at=self.last_seen_at)

    @property
    def duration_minutes(self) -> int:
        """The stay's duration in the whole minutes every page and message shows."""
        return duration_minutes(self.duration_s)


def stay_duration_s(*, started_at: datetime, last_seen_at: datetime) -> int:
    """The one definition of a stay's duration, in whole seconds: from the first to the
    last sighting merged into it. What the cameras saw, never the wall clock: a car that
    left after its last sighting is not counted as still there, and an ended stay ends
    at its last sighting. Pages, messages, the evidence and the notice all read it; the
    evidence package and a notice keep the value they were built with (a stay still
    open keeps growing with each sighting)."""
    return max(0, int((last_seen_at - started_at).total_seconds()))


def duration_minutes(seconds: int) -> int:
    """Whole minutes, rounded down: nothing states more than the cameras saw."""
    return max(0, seconds) // 60


class Owner(models.Model):
    """Who the registry said owns the plate of a stay, kept with the case (encrypted)."""

    stay = models.OneToOneField(Stay, on_delete=models.CASCADE, related_name="owner")
    found = models.BooleanField(default=False)
    name = EncryptedTextField(blank=True, default="")
    phone = EncryptedTextField(blank=True, default="")
    source = models.CharField(max_length=16, blank=True, default="")  # mirror | provincial
    looked_up_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"owner of stay {self.stay_id}"


def new_token_nonce() -> str:
    return secrets.token_urlsafe(12)


class Notice(models.Model):
    """告知单: the notice an officer issues after reviewing the evidence of a stay."""

    class Delivery(models.TextChoices):
        SMS = "sms", _("短信送达")
        POSTED = "posted", _("张贴送达")

    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, related_name="firelane_notice"
    )
    stay = models.OneToOneField(Stay, on_delete=models.PROTECT, related_name="notice")
    number = models.CharField(_("告知单编号"), max_length=40, unique=True)
    plate = models.CharField(_("车牌"), max_length=16)
    site_name = models.CharField(_("场所"), max_length=100)
    lane_name = models.CharField(_("通道"), max_length=100)
    minutes = models.PositiveIntegerField(_("停留分钟"))
    legal_basis = models.TextField(_("法律依据"))
    amount_fen = models.PositiveIntegerField(_("罚款金额（分）"))
    delivery = models.CharField(max_length=8, choices=Delivery.choices)
    issued_at = models.DateTimeField(_("开具时间"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    link_nonce = models.CharField(max_length=32, default=new_token_nonce, editable=False)
    link_expires_at = models.DateTimeField()
    statement = models.TextField(_("陈述申辩"), blank=True, default="")
    statement_at = models.DateTimeField(null=True, blank=True)
    # The procedure (行政处罚法): the statement period from serving, the owner's waiver,
    # the officer's answer, the numbered decision and, once paid, the numbered receipt.
    statement_due_at = models.DateTimeField(_("陈述申辩期限"), null=True, blank=True)
    statement_waived_at = models.DateTimeField(null=True, blank=True)
    statement_answer = models.TextField(_("陈述申辩复核意见"), blank=True, default="")
    statement_answered_at = models.DateTimeField(null=True, blank=True)
    decision_number = models.CharField(
        _("处罚决定书编号"), max_length=40, unique=True, null=True, blank=True
    )
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    fine_fen = models.PositiveIntegerField(_("决定罚款（分）"), null=True, blank=True)
    pay_due_on = models.DateField(_("缴款期限"), null=True, blank=True)
    paid_at = models.DateTimeField(_("缴款时间"), null=True, blank=True)
    paid_fen = models.PositiveIntegerField(_("实缴金额（分）"), null=True, blank=True)
    receipt_number = models.CharField(
        _("缴款凭证编号"), max_length=40, unique=True, null=True, blank=True
    )

    class Meta:
        verbose_name = _("告知单")
        verbose_name_plural = _("告知单")

    def __str__(self) -> str:
        return self.number


class Payment(models.Model):
    class Status(models.TextChoices):
        CREATED = "created", _("待支付")
        PAID = "paid", _("已支付")
        CLOSED = "closed", _("已关闭")

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=16)
    out_trade_no = models.CharField(max_length=64, unique=True)
    amount_fen = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.CREATED)
    provider_trade_no = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    notify_count = models.PositiveIntegerField(default=0)
    last_notify = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["notice"], condition=Q(status="paid"), name="one_paid_payment"
            )
        ]

    def __str__(self) -> str:
        return self.out_trade_no


class VehicleRecord(models.Model):
    """The local mirror of the provincial vehicle registry (loaded by import_registry).

    One row per registered vehicle: the plate (号牌号码 hphm) and its kind (号牌种类 hpzl,
    GA 24.7 code). Owner name and phone are never stored in clear: `owner_sealed` holds
    both, sealed with AES-256-GCM and bound to the plate (civicloop.firelane.vehicles.crypto).
    The table is replaced as a whole by each full export; nothing references its rows."""

    # On PostgreSQL the column has the "C" collation (migration 0002_vehicles): byte-wise
    # comparison makes the 20-million-row index build three times faster.
    plate = models.CharField(_("号牌号码"), max_length=16)
    plate_kind = models.CharField(_("号牌种类"), max_length=2)
    owner_sealed = models.TextField()

    class Meta:
        verbose_name = _("车辆登记镜像")
        verbose_name_plural = _("车辆登记镜像")
        constraints = [
            # The same number can be issued under two kinds (e.g. 01 and 02): the pair is
            # the registry's key; lookups by plate alone use the index's leading column.
            models.UniqueConstraint(fields=["plate", "plate_kind"], name="vehicle_plate_kind")
        ]

    def __str__(self) -> str:
        return f"vehicle {self.pk}"


class RegistryImport(models.Model):
    """Progress of one registry CSV import, so an interrupted import resumes where it
    stopped and a finished file is not imported twice.

    `file_sha256` identifies the file by a quick fingerprint (SHA-256 over its size,
    modification time and first and last MiB), not by hashing every byte of a 1 GB export."""

    class State(models.TextChoices):
        LOADING = "loading", _("导入中")
        DONE = "done", _("已完成")
        ABANDONED = "abandoned", _("已放弃")

    file_sha256 = models.CharField(max_length=64, unique=True)
    file_name = models.CharField(max_length=255)
    file_size = models.PositiveBigIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.LOADING)
    bytes_done = models.PositiveBigIntegerField(default=0)
    rows_done = models.PositiveBigIntegerField(default=0)
    rows_bad = models.PositiveBigIntegerField(default=0)
    # Bad rows per reason ("columns", "plate", "kind", "encoding"), for the final report.
    bad_reasons = models.JSONField(default=dict, blank=True)
    rows_duplicate = models.PositiveBigIntegerField(default=0)
    # HKDF salt of this import's data key (hex): not secret, needed to resume sealing.
    key_salt = models.CharField(max_length=32, default="")
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("车辆登记导入")
        verbose_name_plural = _("车辆登记导入")

    def __str__(self) -> str:
        return self.file_name
