"""Retention of what the cameras saw (civicloop/firelane/tracking.py): sightings, their
pictures and stays that led to no case are deleted after FIRELANE_SIGHTING_RETENTION_DAYS;
the evidence of a case stays as long as the case."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from civicloop.core.attachments.models import Attachment
from civicloop.core.cases.models import Case
from civicloop.firelane.enforcement import stay_thresholds_check
from civicloop.firelane.hooks import MODULE
from civicloop.firelane.models import Sighting, Stay
from civicloop.firelane.tracking import (
    firelane_retention_sweep,
    sightings_delete_expired,
    stay_merge,
)

pytestmark = pytest.mark.django_db

BOX = [0.4, 0.6, 0.55, 0.68]
_shade = {"n": 0}


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)


def picture() -> bytes:
    """A JPEG with bytes of its own (pictures are stored under their digest)."""
    _shade["n"] += 1
    n = _shade["n"]
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (n % 256, (n * 7) % 256, (n * 13) % 256)).save(buf, "JPEG")
    return buf.getvalue()


def _files(sighting: Sighting) -> list[str]:
    return [f.name for f in (sighting.scene, sighting.crop) if f]


def _exist(names: list[str]) -> bool:
    return all(default_storage.exists(n) for n in names)


@pytest.fixture
def now() -> datetime:
    return timezone.now()


@pytest.fixture
def old(now: datetime) -> datetime:
    return now - timedelta(days=31)


@pytest.fixture
def seen(make_sighting: Callable[..., Any]) -> Callable[..., Sighting]:
    def make(plate: str, at: datetime, **kw: Any) -> Sighting:
        return make_sighting(plate, at, scene=picture(), crop=picture(), box=BOX, **kw)

    return make


def _case_stay(seen: Callable[..., Sighting], at: datetime, plate: str) -> Stay:
    """A car parked 31 minutes from `at`: warned, evidence built, its case in review."""
    stay = None
    for s in range(0, 31 * 60 + 1, 120):
        stay = stay_merge(sighting=seen(plate, at + timedelta(seconds=s)))
    assert stay is not None
    stay_thresholds_check(stay_id=stay.pk, now=at + timedelta(minutes=31))
    stay.refresh_from_db()
    assert stay.case_id is not None and stay.eligible_at is not None
    return stay


def test_old_sightings_without_a_case_go_with_their_pictures(
    seen: Callable[..., Sighting], make_sighting: Callable[..., Any], now: datetime, old: datetime
) -> None:
    # Given an old sighting in no stay, one rejected by a human, and a fresh one.
    lone = seen("浙J12345", old)
    rejected = make_sighting(
        "浙J54321", old, trusted=False, scene=picture(), crop=picture(), box=BOX
    )
    Sighting.objects.filter(pk=rejected.pk).update(plate_check=Sighting.Check.REJECTED)
    fresh = seen("浙J12345", now - timedelta(days=29))
    gone = _files(lone) + _files(rejected)
    assert _exist(gone) and len(gone) == 4

    # When the retention sweep runs.
    deleted = firelane_retention_sweep(now=now)

    # Then the old rows and their files are gone, the fresh one is untouched.
    assert deleted == 2
    assert list(Sighting.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert not any(default_storage.exists(n) for n in gone)
    assert _exist(_files(fresh))


def test_the_evidence_of_a_case_is_kept_as_long_as_the_case(
    seen: Callable[..., Sighting], now: datetime
) -> None:
    # Given a stay 40 days ago that became a case (its evidence in the chain), now closed.
    stay = _case_stay(seen, now - timedelta(days=40), "浙J12345")
    Case.objects.filter(pk=stay.case_id).update(state="dismissed")
    Stay.objects.filter(pk=stay.pk).update(ended_at=stay.last_seen_at)
    linked = list(Sighting.objects.filter(stay=stay))
    names = [n for s in linked for n in _files(s)]
    evidence = list(Attachment.objects.values_list("file", flat=True))
    assert evidence and set(evidence) <= set(names)  # the evidence is the sightings' files

    # When the retention sweep runs.
    assert firelane_retention_sweep(now=now) == 0

    # Then every sighting of the stay, the stay and every picture are still there.
    assert Sighting.objects.filter(stay=stay).count() == len(linked) == 16
    assert Stay.objects.filter(pk=stay.pk).exists()
    assert _exist(names) and _exist(evidence)


def test_a_picture_a_kept_sighting_shares_is_not_deleted(
    seen: Callable[..., Sighting], now: datetime, old: datetime
) -> None:
    # Given a case's sighting and an old lone sighting of the very same frame (the camera
    # sent it twice: one content-addressed file for both).
    stay = _case_stay(seen, now - timedelta(days=40), "浙J12345")
    kept = Sighting.objects.filter(stay=stay).order_by("pk").first()
    assert kept is not None
    lone = seen("浙J12345", old)
    own_crop = lone.crop.name
    Sighting.objects.filter(pk=lone.pk).update(scene=kept.scene.name)

    # When the retention sweep runs.
    firelane_retention_sweep(now=now)

    # Then the lone row and its own crop are gone; the shared scene is kept.
    assert not Sighting.objects.filter(pk=lone.pk).exists()
    assert not default_storage.exists(own_crop)
    assert default_storage.exists(kept.scene.name)


def test_a_stay_without_a_case_goes_once_ended_an_open_one_waits(
    seen: Callable[..., Sighting], now: datetime, old: datetime
) -> None:
    # Given an old short stay that ended without a case (the car left before T1), and an
    # old stay still open (it might still become a case).
    ended = stay_merge(sighting=seen("浙J11111", old))
    assert ended is not None
    Stay.objects.filter(pk=ended.pk).update(ended_at=old)
    still_open = stay_merge(sighting=seen("浙J22222", old - timedelta(hours=1)))
    assert still_open is not None and still_open.pk != ended.pk

    # When the retention sweep runs.
    firelane_retention_sweep(now=now)

    # Then the ended stay and its sighting are gone; the open stay and its sighting stay.
    assert not Stay.objects.filter(pk=ended.pk).exists()
    assert not Sighting.objects.filter(plate="浙J11111").exists()
    assert Stay.objects.filter(pk=still_open.pk).exists()
    assert Sighting.objects.filter(stay=still_open).count() == 1


def test_in_batches_and_safe_to_repeat(
    seen: Callable[..., Sighting], now: datetime, old: datetime
) -> None:
    # Given five old lone sightings, one of whose pictures is already gone from storage
    # (a run that crashed after deleting files).
    rows = [seen("浙J12345", old + timedelta(minutes=i)) for i in range(5)]
    default_storage.delete(rows[0].scene.name)

    # When one batch of two runs, then the sweep in batches of two, then again.
    assert sightings_delete_expired(now=now, batch=2) == 2
    assert Sighting.objects.count() == 3
    assert firelane_retention_sweep(now=now, batch=2) == 3
    assert firelane_retention_sweep(now=now, batch=2) == 0

    # Then nothing is left, not a file.
    assert not Sighting.objects.exists()
    assert not any(default_storage.exists(n) for s in rows for n in _files(s))


def test_the_period_is_a_setting(
    seen: Callable[..., Sighting], settings: Any, now: datetime
) -> None:
    # Given a sighting eight days old and a retention of seven days.
    settings.FIRELANE_SIGHTING_RETENTION_DAYS = 7
    seen("浙J12345", now - timedelta(days=8))
    recent = seen("浙J12345", now - timedelta(days=6))

    # When the sweep runs, then only the older one is gone.
    assert firelane_retention_sweep(now=now) == 1
    assert list(Sighting.objects.values_list("pk", flat=True)) == [recent.pk]


def test_the_sweep_is_a_periodic_task_with_a_default_of_30_days() -> None:
    tasks = {t.name: t for t in MODULE.periodic_tasks}
    assert tasks["firelane-retention"].task == "civicloop.firelane.tasks.firelane_retention"
    defaults = {s.name: s.default for s in MODULE.settings}
    assert defaults["FIRELANE_SIGHTING_RETENTION_DAYS"] == 30
