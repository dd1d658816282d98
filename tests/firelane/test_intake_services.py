"""`sightings_record` and the refusal counters, called directly (every way in shares them)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from civicloop.firelane.intake import services
from civicloop.firelane.intake.events import CameraEvent, Outcome
from civicloop.firelane.intake.services import (
    RefusalNote,
    address_allowed,
    intake_refusals_count,
    jpeg_size,
    sightings_record,
)
from tests.firelane.intake_fixtures import (
    intake_camera_copies_forgotten,  # noqa: F401 (autouse)
    intake_site_camera,
    plate_jpeg,
    scene_jpeg,
    synthetic_jpeg,
)


@pytest.fixture
def intake_media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def make_event(
    key: str, *, serial: str = "CAM-1", when: datetime | None = None, **kw: Any
) -> CameraEvent:
    values: dict[str, Any] = {
        "source": "mqtt",
        "serial": serial,
        "event_key": key,
        "camera_time": when or timezone.now(),
        "plate": "浙J12345",
        "scene_jpeg": scene_jpeg(),
    }
    values.update(kw)
    return CameraEvent(**values)


def stored_files(media: Path) -> list[Path]:
    return sorted(p for p in media.rglob("*.jpg")) if media.exists() else []


def test_allowlist_takes_addresses_and_networks() -> None:
    assert address_allowed(allowlist="127.0.0.1", remote_addr="127.0.0.1")
    assert address_allowed(allowlist="10.8.0.0/24,192.168.1.7", remote_addr="10.8.0.99")
    assert address_allowed(allowlist="bogus 2001:db8::/32", remote_addr="2001:db8::5")
    assert not address_allowed(allowlist="10.8.0.0/24", remote_addr="10.8.1.1")
    assert not address_allowed(allowlist="", remote_addr="127.0.0.1")
    assert not address_allowed(allowlist="127.0.0.1", remote_addr="not-an-ip")


def test_jpeg_is_checked_by_content() -> None:
    assert jpeg_size(scene_jpeg()) is not None
    assert jpeg_size(synthetic_jpeg((20, 10))) == (20, 10)
    assert jpeg_size(synthetic_jpeg((20, 10)) + b"\x00\x00") == (20, 10)  # padded by camera
    assert jpeg_size(b"\xff\xd8\xff" + b"\x00" * 100 + b"\xff\xd9") is None
    assert jpeg_size(synthetic_jpeg((20, 10))[:-2]) is None  # no EOI: truncated
    assert jpeg_size(b"") is None


@pytest.mark.django_db
def test_a_batch_stores_each_event_once_and_counts_refusals(intake_media: Path) -> None:
    from civicloop.firelane.models import Camera, IntakeRefusal, Sighting

    # Given a camera with a known offset and a stored event
    camera = intake_site_camera(serial="CAM-1", vendor="frigate", clock_offset_s=-30)
    sightings_record(events=[make_event("k0")], remote_addr=None)
    now = timezone.now()
    # When a batch holds that replay, a new event twice, a Frigate-style pixel box,
    # an unknown camera and a late event
    outcomes = sightings_record(
        events=[
            make_event("k0"),
            make_event("k1", when=now - timedelta(seconds=30), box_px=(960, 540, 1920, 1080)),
            make_event("k1"),
            make_event("k2", serial="CAM-UNKNOWN"),
            make_event("k3", when=now - timedelta(days=3)),
            make_event("k4", scene_jpeg=None),
        ],
        remote_addr=None,
        now=now,
    )
    # Then each gets its outcome, in order
    assert [o.outcome for o in outcomes] == [
        Outcome.DUPLICATE,
        Outcome.STORED,
        Outcome.DUPLICATE,
        Outcome.REFUSED,
        Outcome.REFUSED,
        Outcome.STORED,
    ]
    assert outcomes[2].sighting_id == outcomes[1].sighting_id
    assert [o.reason for o in outcomes if o.outcome is Outcome.REFUSED] == [
        "unknown_camera",
        "late",
    ]
    assert Sighting.objects.filter(camera=camera).count() == 3
    k1 = Sighting.objects.get(event_key="k1")
    # camera 30 s slow: taken_at is camera time + 30 s
    assert k1.taken_at == now and k1.flags == []
    # pixels of the scene picture itself (hyperlpr scene is 500x375) become fractions
    assert k1.box == [1.0, 1.0, 1.0, 1.0] or all(0 <= v <= 1 for v in k1.box)
    assert Sighting.objects.get(event_key="k4").scene == ""
    counted = {(r.reason, r.serial): r.count for r in IntakeRefusal.objects.all()}
    assert counted == {("unknown_camera", "CAM-UNKNOWN"): 1, ("late", "CAM-1"): 1}
    assert Camera.objects.get(pk=camera.pk).status == "online"


@pytest.mark.django_db
def test_refusals_are_counted_per_day_reason_and_serial() -> None:
    from civicloop.firelane.models import IntakeRefusal

    notes = [RefusalNote("mqtt", "no_plate", "cam-a", "object 1")] * 3 + [
        RefusalNote("mqtt", "not_vehicle", "cam-a", "label person")
    ]
    intake_refusals_count(notes=notes)
    intake_refusals_count(notes=notes[:1])
    rows = {r.reason: r for r in IntakeRefusal.objects.all()}
    assert rows["no_plate"].count == 4 and rows["not_vehicle"].count == 1
    assert rows["no_plate"].day == timezone.localdate()
    # Another day is another row
    intake_refusals_count(notes=notes[:1], now=timezone.now() + timedelta(days=1))
    assert IntakeRefusal.objects.filter(reason="no_plate").count() == 2


@pytest.mark.django_db
def test_last_seen_is_written_at_most_every_few_seconds(intake_media: Path, settings: Any) -> None:
    from civicloop.firelane.models import Camera

    camera = intake_site_camera(serial="CAM-1")
    t0 = timezone.now()
    sightings_record(events=[make_event("a", when=t0)], remote_addr=None, now=t0)
    sightings_record(
        events=[make_event("b", when=t0)], remote_addr=None, now=t0 + timedelta(seconds=3)
    )
    assert Camera.objects.get(pk=camera.pk).last_seen_at == t0
    later = t0 + timedelta(seconds=settings.FIRELANE_LAST_SEEN_EVERY_S + 1)
    sightings_record(events=[make_event("c", when=t0)], remote_addr=None, now=later)
    assert Camera.objects.get(pk=camera.pk).last_seen_at == later


@pytest.mark.django_db
def test_a_disabled_camera_is_refused(intake_media: Path) -> None:
    intake_site_camera(serial="CAM-1", status="disabled")
    [outcome] = sightings_record(events=[make_event("a")], remote_addr=None)
    assert (outcome.outcome, outcome.reason, outcome.http_status) == (
        Outcome.REFUSED,
        "camera_disabled",
        403,
    )


@pytest.mark.django_db
def test_a_lost_race_returns_the_winner_and_deletes_its_files(intake_media: Path) -> None:
    from civicloop.firelane.models import Sighting

    # Given an event stored with its picture
    intake_site_camera(serial="CAM-1")
    [winner] = sightings_record(
        events=[make_event("race", scene_jpeg=synthetic_jpeg((8, 8)))], remote_addr=None
    )
    # When the same event comes again with other pictures (one event: no replay SELECT
    # runs first, the INSERT ... ON CONFLICT finds the stored row)
    [loser] = sightings_record(
        events=[make_event("race", plate_jpeg=plate_jpeg())], remote_addr=None
    )
    # Then we answer with the winner's row, and the pictures we wrote are gone again
    assert loser.outcome is Outcome.DUPLICATE and loser.sighting_id == winner.sighting_id
    assert Sighting.objects.count() == 1
    assert [p.name.split("-")[-1] for p in stored_files(intake_media)] == ["scene.jpg"]
    assert not list(intake_media.rglob("*.part"))


@pytest.mark.django_db
def test_a_batch_that_loses_a_race_keeps_its_other_rows(
    intake_media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civicloop.firelane.models import Sighting

    # Given the winner stored the event after the batch's replay check ran (the race window
    # is between the check and the INSERT; we open it by hiding the stored row from it)
    intake_site_camera(serial="CAM-1")
    [winner] = sightings_record(
        events=[make_event("race", scene_jpeg=synthetic_jpeg((8, 8)))], remote_addr=None
    )
    monkeypatch.setattr(services, "_stored_ids", lambda candidates: {})
    # When a batch writes the same event, with its own pictures, and a new one
    loser, other = sightings_record(
        events=[make_event("race", plate_jpeg=plate_jpeg()), make_event("new")],
        remote_addr=None,
    )
    # Then the race is answered with the winner's row, the new event is stored, and only
    # the pictures of stored rows remain
    assert loser.outcome is Outcome.DUPLICATE and loser.sighting_id == winner.sighting_id
    assert other.outcome is Outcome.STORED
    assert Sighting.objects.count() == 2
    names = {s.scene.name for s in Sighting.objects.all()} | {
        s.crop.name for s in Sighting.objects.exclude(crop="")
    }
    assert {p.relative_to(intake_media).as_posix() for p in stored_files(intake_media)} == names


@pytest.mark.django_db
def test_a_camera_row_kept_by_the_process_only_accepts(intake_media: Path) -> None:
    from civicloop.firelane.models import Camera, IntakeRefusal, Sighting

    # Given a camera whose row this process keeps since its last push
    camera = intake_site_camera(serial="CAM-1", ip_allowlist="127.0.0.1")
    [first] = sightings_record(events=[make_event("a")], remote_addr="127.0.0.1")
    assert first.outcome is Outcome.STORED
    # When its row changes without save() (no process is told): narrowed allowlist ...
    Camera.objects.filter(pk=camera.pk).update(ip_allowlist="10.0.0.1")
    [narrowed] = sightings_record(events=[make_event("b")], remote_addr="127.0.0.1")
    # ... disabled
    Camera.objects.filter(pk=camera.pk).update(ip_allowlist="127.0.0.1", status="disabled")
    [disabled] = sightings_record(events=[make_event("c")], remote_addr="127.0.0.1")
    # ... and back, with a clock found 10 minutes fast
    Camera.objects.filter(pk=camera.pk).update(status="online", clock_offset_s=600)
    sent = timezone.now() + timedelta(seconds=600)
    [fast] = sightings_record(events=[make_event("d", when=sent)], remote_addr="127.0.0.1")
    # Then each push is judged on the row as it is now, refusals counted
    assert (narrowed.outcome, narrowed.reason) == (Outcome.REFUSED, "address")
    assert (disabled.outcome, disabled.reason) == (Outcome.REFUSED, "camera_disabled")
    assert fast.outcome is Outcome.STORED
    stored = Sighting.objects.get(pk=fast.sighting_id)
    assert abs((stored.taken_at - (sent - timedelta(seconds=600))).total_seconds()) < 0.01
    assert sorted(Sighting.objects.values_list("event_key", flat=True)) == ["a", "d"]
    assert {r.reason: r.count for r in IntakeRefusal.objects.all()} == {
        "address": 1,
        "camera_disabled": 1,
    }


@pytest.mark.django_db
def test_one_stored_event_is_one_query(
    intake_media: Path, django_assert_num_queries: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from civicloop.firelane.models import Sighting

    # Given a camera that pushed a moment ago (its row kept; marked online, committed)
    intake_site_camera(serial="CAM-1")
    with django_capture_on_commit_callbacks(execute=True):
        sightings_record(events=[make_event("a")], remote_addr="127.0.0.1")
    # When it pushes the next event
    with django_assert_num_queries(1):
        [outcome] = sightings_record(events=[make_event("b")], remote_addr="127.0.0.1")
    # Then one INSERT stored it (no camera read, replay check, savepoint or UPDATE)
    assert outcome.outcome is Outcome.STORED
    assert Sighting.objects.get(pk=outcome.sighting_id).event_key == "b"


@pytest.mark.django_db
def test_a_picture_is_written_once_under_its_content_name(intake_media: Path) -> None:
    from django.core.files.storage import default_storage

    # Given a picture stored under its content-addressed name
    day = timezone.localdate()
    name, digest, written = services._image_store(
        data=scene_jpeg(), serial="CAM/1", day=day, kind="scene"
    )
    # When the same bytes are stored again
    again = services._image_store(data=scene_jpeg(), serial="CAM/1", day=day, kind="scene")
    # Then the second call finds it, the file holds the bytes, no temporary file is left
    assert written and again == (name, digest, False)
    assert name == f"firelane/{day:%Y/%m/%d}/CAM_1/{digest}-scene.jpg"
    with default_storage.open(name) as f:
        assert f.read() == scene_jpeg()
    assert [p.name for p in intake_media.rglob("*") if p.is_file()] == [f"{digest}-scene.jpg"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_store_one_row(intake_media: Path) -> None:
    from civicloop.firelane.models import Sighting

    if connections["default"].vendor == "sqlite":
        # The in-memory test database (shared cache) locks tables without waiting; the
        # product's file database waits (busy timeout). The race path is covered above.
        pytest.skip("needs a database with concurrent writers")
    # Given one event sent by four writers at the same moment
    intake_site_camera(serial="CAM-1")
    when = timezone.now()
    barrier = threading.Barrier(4)
    results: list[Any] = []

    def write(n: int) -> None:
        try:
            barrier.wait()
            results.extend(
                sightings_record(
                    events=[make_event("same", when=when, plate_jpeg=synthetic_jpeg((9, 9 + n)))],
                    remote_addr=None,
                )
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then one row, one "stored", three duplicates pointing at it, no orphan pictures
    assert sorted(o.outcome for o in results) == ["duplicate"] * 3 + ["stored"]
    row = Sighting.objects.get()
    assert {o.sighting_id for o in results} == {row.pk}
    crops = [p for p in stored_files(intake_media) if p.name.endswith("-plate.jpg")]
    assert [c.relative_to(intake_media).as_posix() for c in crops] == [row.crop.name]


def test_event_times_must_be_aware() -> None:
    event = make_event("x", when=datetime(2026, 1, 1, tzinfo=UTC))
    assert event.camera_time.tzinfo is not None
