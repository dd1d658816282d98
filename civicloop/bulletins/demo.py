"""The demo's e线知政 and 学习园地: 20 + 10 items (some required, with PDFs, images and a
course video), published by the 代表工委 over the year, and readings by demo deputies.

Files are made here, offline: PDFs and cover images drawn with Pillow in the platform's
own CJK font, the course video a small WebM shipped in `data/`. Idempotent: an item is
made once (by title); readings once per item and deputy. Works without the 民意 module:
with no deputies yet, a few are made at the 泽国镇 liaison station."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from civicloop.bulletins.demo_content import EZHI, LEARNING, DemoItem
from civicloop.bulletins.models import Item, ReadRecord
from civicloop.bulletins.selectors import deputy_users
from civicloop.bulletins.services import ItemDraft, item_publish
from civicloop.core.accounts.models import User
from civicloop.core.areas.models import Area
from civicloop.core.demo import DemoLogin, demo_logins_ensure
from civicloop.core.units.models import Unit

FONT = Path(__file__).resolve().parents[1] / "core" / "fonts" / "NotoSansSC-Subset.otf"
VIDEO = Path(__file__).resolve().parent / "data" / "demo_course.webm"
STATION_CODE = "station-331081100"
EDITOR = "npc_office"
DEMO_SOURCE = "demo"
FALLBACK_DEPUTIES = (
    DemoLogin("deputy_wang", "王建国", "13800000004", "deputy", STATION_CODE),
    DemoLogin("deputy_001", "陈海燕", "13800000101", "deputy", STATION_CODE),
    DemoLogin("deputy_002", "林国平", "13800000102", "deputy", STATION_CODE),
    DemoLogin("deputy_003", "郑丽华", "13800000103", "deputy", STATION_CODE),
    DemoLogin("deputy_004", "徐建军", "13800000104", "deputy", STATION_CODE),
)


def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT), size)


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        while paragraph:
            lines.append(paragraph[:width])
            paragraph = paragraph[width:]
    return lines


def demo_pdf(item: DemoItem) -> bytes:
    """A one-page A4 PDF (72 dpi raster) with the item's title and text."""
    page = Image.new("L", (595, 842), 255)
    draw = ImageDraw.Draw(page)
    draw.text((48, 40), "温岭市人大常委会", font=_font(14), fill=90)
    y = 72
    for line in _wrap(item.title, 22):
        draw.text((48, y), line, font=_font(20), fill=0)
        y += 30
    y += 10
    for line in _wrap(item.body, 33):
        draw.text((48, y), line, font=_font(14), fill=20)
        y += 22
        if y > 800:
            break
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=72)
    return out.getvalue()


def demo_cover(item: DemoItem) -> bytes:
    """A 960x540 cover picture: a coloured band with the title."""
    seed = hashlib.sha256(item.title.encode()).digest()
    base = (11 + seed[0] % 40, 74 + seed[1] % 60, 139 + seed[2] % 60)
    image = Image.new("RGB", (960, 540), base)
    draw = ImageDraw.Draw(image)
    for i in range(0, 540, 6):
        shade = tuple(min(255, c + i // 12) for c in base)
        draw.rectangle((0, i, 960, i + 6), fill=shade)
    draw.rectangle((0, 400, 960, 540), fill=(255, 255, 255))
    draw.text((40, 430), item.title[:26], font=_font(34), fill=(26, 31, 41))
    draw.text((40, 40), "温岭 · e线知政", font=_font(28), fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _deputies_ensure() -> list[User]:
    """The deputies to read: those of the 民意 demo, else a few made here."""
    deputies = list(deputy_users().order_by("username"))
    if deputies:
        return deputies
    town = Area.objects.get(code="331081100")
    Unit.objects.get_or_create(
        code=STATION_CODE,
        defaults={"name": "泽国镇人大代表联络站", "kind": "station", "area": town},
    )
    demo_logins_ensure(FALLBACK_DEPUTIES)
    return list(deputy_users().order_by("username"))


def _draft(spec: DemoItem) -> ItemDraft:
    files: dict[str, list[SimpleUploadedFile]] = {"images": [], "documents": [], "videos": []}
    if spec.pdf:
        files["documents"].append(
            SimpleUploadedFile(f"{spec.title[:20]}.pdf", demo_pdf(spec), "application/pdf")
        )
    if spec.image:
        files["images"].append(SimpleUploadedFile("cover.png", demo_cover(spec), "image/png"))
    if spec.video:
        files["videos"].append(SimpleUploadedFile("course.webm", VIDEO.read_bytes(), "video/webm"))
    now = timezone.now()
    due = (now - timedelta(days=spec.days_ago) + timedelta(days=30)).date()
    return ItemDraft(
        section=spec.section,
        category=spec.category,
        title=spec.title,
        summary=spec.summary,
        body=spec.body,
        tags=spec.tags,
        required=spec.required,
        due_date=due if spec.required else None,
        source=DEMO_SOURCE,
        **files,
    )


def _reads(items: list[Item], deputies: list[User]) -> int:
    """Deterministic readings: most deputies finished most required items; some
    opened without finishing; deputy_wang read the learning courses."""
    records: list[ReadRecord] = []
    for d_index, deputy in enumerate(deputies):
        for i_index, item in enumerate(items):
            roll = (d_index * 7 + i_index * 13) % 10
            if item.required:
                if roll >= 8:
                    continue  # not opened: shows on the 代表工委's report
                finished = roll < 6
            else:
                if roll >= 3:
                    continue
                finished = roll < 2
            if deputy.username == "deputy_wang" and item.section == "learning" and i_index % 3:
                finished = True
            seconds = 120 + (roll * 97 + i_index * 31) % 1500
            started = item.published_at + timedelta(hours=2 + roll * 5)
            if started > timezone.now():
                continue
            records.append(
                ReadRecord(
                    item=item,
                    user=deputy,
                    started_at=started,
                    last_seen_at=started + timedelta(seconds=seconds),
                    finished_at=started + timedelta(seconds=seconds) if finished else None,
                    seconds=seconds,
                )
            )
    # One insert; a reading already there (same item and deputy) is kept as it is.
    ReadRecord.objects.bulk_create(records, ignore_conflicts=True, batch_size=500)
    return len(records)


def demo_bulletins_load(log: Callable[[str], None]) -> None:
    """20 e线知政 items, 10 学习园地 items and the deputies' readings (idempotent)."""
    editor = User.objects.filter(username=EDITOR).first()
    if editor is None:
        log("bulletins: no npc_office login; skipped")
        return
    deputies = _deputies_ensure()
    existing = set(Item.objects.filter(source=DEMO_SOURCE).values_list("title", flat=True))
    created = 0
    now = timezone.now()
    for spec in (*EZHI, *LEARNING):
        if spec.title in existing:
            continue
        item_publish(
            draft=_draft(spec),
            actor=editor,
            now=now - timedelta(days=spec.days_ago, hours=spec.days_ago % 7),
            notify=False,
        )
        created += 1
    with transaction.atomic():
        items = list(Item.objects.filter(source=DEMO_SOURCE).order_by("published_at"))
        reads = _reads(items, deputies) if created else 0
    log(f"bulletins: {created} items created, {reads} readings recorded")
