"""Sightings → stays → warning and evidence (civicloop/firelane/tracking.py, enforcement.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from civicloop.core.cases.models import Case
from civicloop.core.outbox.models import OutboxMessage
from civicloop.firelane.enforcement import stay_thresholds_check
from civicloop.firelane.models import Camera, Exemption, Sighting, Stay
from civicloop.firelane.plates import PlateReading
from civicloop.firelane.tracking import (
    firelane_sweep,
    lane_for,
    plate_decide,
    point_in_polygon,
    stay_merge,
)
from tests.firelane.conftest import scene_bytes

pytestmark = pytest.mark.django_db

BOX = [0.4, 0.6, 0.55, 0.68]


def _reading(plate: str, confidence: float = 0.97) -> PlateReading:
    return PlateReading(plate=plate, color="blue", confidence=confidence, box=None, kind="crop")


# --------------------------------------------------------------------------- plate check


def test_camera_and_server_agree() -> None:
    d = plate_decide(camera_plate="浙J12345", reading=_reading("浙J12345"))
    assert (d.plate, d.check, d.flags) == ("浙J12345", "agreed", ())


def test_disagreement_goes_to_a_human() -> None:
    d = plate_decide(camera_plate="浙J12345", reading=_reading("浙J12346"))
    assert d.check == "review" and "disagreement" in d.flags
    assert d.plate == "浙J12346"  # the server's reading is what the human sees first


def test_low_confidence_goes_to_a_human() -> None:
    d = plate_decide(camera_plate="浙J12345", reading=_reading("浙J12345", confidence=0.3))
    assert d.check == "review" and "low_confidence" in d.flags


def test_camera_text_alone_is_not_trusted() -> None:
    assert plate_decide(camera_plate="浙J12345", reading=None).check == "review"
    empty = PlateReading(plate="", color="", confidence=0.0, box=None, kind="scene")
    assert plate_decide(camera_plate="浙J12345", reading=empty).check == "review"
    assert plate_decide(camera_plate="", reading=empty).check == "no_plate"


def test_server_alone_when_the_camera_read_nothing() -> None:
    d = plate_decide(camera_plate="", reading=_reading("浙J12345"))
    assert d.check == "agreed" and "camera_no_plate" in d.flags


# --------------------------------------------------------------------------- lanes


def test_point_in_polygon() -> None:
    square = [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8], [0.2, 0.8]]
    assert point_in_polygon(0.5, 0.5, square)
    assert not point_in_polygon(0.1, 0.5, square)
    assert not point_in_polygon(0.5, 0.9, square)


def test_lane_by_plate_position(fl_camera: Camera) -> None:
    from civicloop.firelane.models import Lane

    fl_camera.lanes.all().delete()
    left = Lane.objects.create(
        camera=fl_camera, name="左", polygon=[[0, 0], [0.5, 0], [0.5, 1], [0, 1]]
    )
    right = Lane.objects.create(
        camera=fl_camera, name="右", polygon=[[0.5, 0], [1, 0], [1, 1], [0.5, 1]]
    )
    lanes = [left, right]
    assert lane_for(lanes=lanes, box=[0.1, 0.5, 0.2, 0.55]) == left
    assert lane_for(lanes=lanes, box=[0.7, 0.5, 0.8, 0.55]) == right
    assert lane_for(lanes=lanes, box=None) is None  # two lanes, no position: unknown
    assert lane_for(lanes=[left], box=None) == left


# --------------------------------------------------------------------------- stays


def _merge(make_sighting: Any, plate: str, at: Any, **kw: Any) -> Stay:
    s = make_sighting(plate, at, **kw)
    stay = stay_merge(sighting=s)
    assert stay is not None
    return stay


def test_sightings_within_the_gap_are_one_stay(make_sighting: Any, t0: Any) -> None:
    stays = {_merge(make_sighting, "浙J12345", t0 + timedelta(minutes=m)).pk for m in (0, 2, 4, 6)}
    assert len(stays) == 1
    stay = Stay.objects.get()
    assert stay.sightings_count == 4
    assert stay.duration_s == 360


def test_a_one_character_ocr_variant_is_the_same_stay(make_sighting: Any, t0: Any) -> None:
    a = _merge(make_sighting, "浙J12345", t0)
    b = _merge(make_sighting, "浙J12845", t0 + timedelta(minutes=1))
    assert a.pk == b.pk
    c = _merge(make_sighting, "浙J99999", t0 + timedelta(minutes=2))
    assert c.pk != a.pk


def test_a_return_after_the_gap_is_a_new_stay(make_sighting: Any, t0: Any) -> None:
    first = _merge(make_sighting, "浙J12345", t0)
    _merge(make_sighting, "浙J12345", t0 + timedelta(minutes=2))
    again = _merge(make_sighting, "浙J12345", t0 + timedelta(minutes=10))  # gap 8 min > 3
    assert again.pk != first.pk
    first.refresh_from_db()
    assert first.ended_at == t0 + timedelta(minutes=2)


def test_a_late_sighting_extends_the_stay_backwards(make_sighting: Any, t0: Any) -> None:
    stay = _merge(make_sighting, "浙J12345", t0 + timedelta(minutes=2))
    again = _merge(make_sighting, "浙J12345", t0)
    assert again.pk == stay.pk
    again.refresh_from_db()
    assert again.started_at == t0 and again.duration_s == 120


# --------------------------------------------------------------------------- thresholds


def _sms_and_dingtalk() -> list[tuple[str, str]]:
    return sorted(OutboxMessage.objects.values_list("kind", "template"))


def test_warning_at_t1_exactly_once(make_sighting: Any, t0: Any, registry_records: Any) -> None:
    registry_records([("浙J12345", "王某", "13900001111")])
    stay = _merge(make_sighting, "浙J12345", t0)
    assert stay_thresholds_check(stay_id=stay.pk) is False  # 0 s: nothing yet
    for m in (2, 4, 5):
        stay = _merge(make_sighting, "浙J12345", t0 + timedelta(minutes=m))
    assert stay_thresholds_check(stay_id=stay.pk) is True
    assert stay_thresholds_check(stay_id=stay.pk) is False
    firelane_sweep(now=t0 + timedelta(minutes=5, seconds=30))
    stay.refresh_from_db()
    assert stay.warned_at is not None and stay.case is not None
    case = stay.case
    assert (case.channel, case.state, case.owner_unit.code) == ("firelane", "warned", "dept-fire")
    assert "浙J12345" not in case.title  # masked in the case everyone sees
    sms = OutboxMessage.objects.filter(kind="sms", template__startswith="firelane")
    assert [m.payload["template"] for m in sms] == ["firelane_warning"]
    assert sms[0].payload["phone"] == "13900001111"
    assert sms[0].payload["params"]["plate"] == "浙J12345"
    # The property manager of the site is told through DingTalk, once.
    assert OutboxMessage.objects.filter(idempotency_key__endswith=":warn:dingtalk").count() == 1
    assert case.timeline.filter(action="firelane_warning").count() == 1


def test_exempt_vehicles_are_never_warned(make_sighting: Any, t0: Any) -> None:
    Exemption.objects.create(kind=Exemption.Kind.AMBULANCE, plate="浙J120JJ")
    for m in range(0, 40, 2):
        stay = _merge(make_sighting, "浙J120JJ", t0 + timedelta(minutes=m))
    stay.refresh_from_db()
    assert stay.exempt_reason.startswith("救护车")
    assert stay_thresholds_check(stay_id=stay.pk) is False
    firelane_sweep(now=t0 + timedelta(minutes=39))
    stay.refresh_from_db()
    assert stay.warned_at is None and stay.case is None
    assert not OutboxMessage.objects.filter(idempotency_key__contains=":warn:").exists()


def test_a_time_window_exempts_a_whole_site(make_sighting: Any, t0: Any, fl_site: Any) -> None:
    from django.utils import timezone

    local = timezone.localtime(t0)
    start = (local - timedelta(minutes=5)).time()
    end = (local + timedelta(minutes=30)).time()
    Exemption.objects.create(
        kind=Exemption.Kind.WINDOW, site=fl_site, daily_start=start, daily_end=end, note="装卸"
    )
    stay = _merge(make_sighting, "浙J12345", t0)
    assert stay.exempt_reason.startswith("时段豁免")
    # Outside the window the same site is watched as usual.
    Exemption.objects.all().delete()
    outside = (local + timedelta(hours=2)).time()
    Exemption.objects.create(
        kind=Exemption.Kind.WINDOW,
        site=fl_site,
        daily_start=outside,
        daily_end=(local + timedelta(hours=2, minutes=1)).time(),
    )
    other = _merge(make_sighting, "浙J54321", t0)
    assert other.exempt_reason == ""


def test_registry_outage_delays_the_warning_without_losing_it(
    make_sighting: Any, t0: Any, settings: Any, registry_records: Any
) -> None:
    registry_records([("浙J00001", "别人", "13900000000")])
    settings.VEHICLE_REGISTRY_URL = "http://127.0.0.1:9"  # nothing listens: an outage
    settings.VEHICLE_REGISTRY_RETRIES = 0
    for m in (0, 2, 4, 6):
        stay = _merge(make_sighting, "浙J54321", t0 + timedelta(minutes=m))
    assert stay_thresholds_check(stay_id=stay.pk) is False
    stay.refresh_from_db()
    assert stay.warned_at is None and stay.warn_error == "registry_unavailable"
    # The registry is back (here: the owner reaches the mirror); the sweep warns.
    registry_records([("浙J54321", "车主", "13900002222")])
    firelane_sweep(now=t0 + timedelta(minutes=6, seconds=30))
    stay.refresh_from_db()
    assert stay.warned_at is not None and stay.warn_error == ""
    assert OutboxMessage.objects.filter(template="firelane_warning").count() == 1


def test_other_province_is_warned_without_sms(make_sighting: Any, t0: Any) -> None:
    for m in (0, 2, 4, 6):
        stay = _merge(make_sighting, "皖A195K9", t0 + timedelta(minutes=m))
    assert stay_thresholds_check(stay_id=stay.pk) is True
    stay.refresh_from_db()
    assert stay.owner.found is False and stay.owner.source == "other_province"
    assert not OutboxMessage.objects.filter(template__startswith="firelane").exists()
    assert OutboxMessage.objects.filter(idempotency_key__endswith=":warn:dingtalk").count() == 1


def _park(make_sighting: Any, t0: Any, minutes: int, every_s: int = 60) -> Stay:
    stay = None
    for s in range(0, minutes * 60 + 1, every_s):
        stay = _merge(
            make_sighting, "浙J12345", t0 + timedelta(seconds=s), scene=scene_bytes(), box=BOX
        )
    assert stay is not None
    return stay


def test_evidence_at_t2_goes_into_the_hash_chain(
    make_sighting: Any, t0: Any, registry_records: Any
) -> None:
    registry_records([("浙J12345", "王某", "13900001111")])
    stay = _park(make_sighting, t0, 31, every_s=120)
    stay_thresholds_check(stay_id=stay.pk)
    stay.refresh_from_db()
    assert stay.eligible_at is not None
    case = Case.objects.get(pk=stay.case_id)
    assert case.state == "review"
    entry = case.timeline.get(action="evidence")
    evidence = entry.data["evidence"]
    scenes = [f for f in evidence["files"] if f["role"] == "scene"]
    plates = [f for f in evidence["files"] if f["role"] == "plate"]
    assert len(scenes) == 2 and len(plates) == 1
    assert evidence["interval_s"] >= 10
    assert evidence["lane"]["polygon"]
    # Every file's SHA-256 is in the chain: the entry's attachment digests cover them.
    assert sorted(entry.attachment_digests) == sorted(f["sha256"] for f in evidence["files"])
    first = Sighting.objects.get(pk=scenes[0]["sighting"])
    assert first.scene_sha256 == scenes[0]["sha256"]
    from django.core.management import call_command

    call_command("verify_chains")


def test_no_evidence_without_two_scenes_ten_seconds_apart(make_sighting: Any, t0: Any) -> None:
    # Thirty minutes of sightings, but only one picture: GA/T 832 is not met.
    stay = None
    for m in range(0, 32, 2):
        stay = _merge(
            make_sighting,
            "皖A195K9",
            t0 + timedelta(minutes=m),
            scene=scene_bytes() if m == 0 else None,
        )
    assert stay is not None
    stay_thresholds_check(stay_id=stay.pk)
    stay.refresh_from_db()
    assert stay.warned_at is not None and stay.eligible_at is None
    assert Case.objects.get(pk=stay.case_id).state == "warned"


def test_a_car_that_leaves_before_t2_closes_as_moved(make_sighting: Any, t0: Any) -> None:
    for m in (0, 2, 4, 6):
        stay = _merge(make_sighting, "皖A195K9", t0 + timedelta(minutes=m))
    stay_thresholds_check(stay_id=stay.pk)
    firelane_sweep(now=t0 + timedelta(minutes=6 + 4))  # gone for longer than the 3-min gap
    stay.refresh_from_db()
    assert stay.ended_at == t0 + timedelta(minutes=6)
    assert Case.objects.get(pk=stay.case_id).state == "moved"


def test_a_silent_camera_goes_offline_and_its_site_is_told_once(fl_camera: Camera) -> None:
    from django.utils import timezone

    Camera.objects.update(last_seen_at=timezone.now(), status="online")
    Camera.objects.filter(pk=fl_camera.pk).update(last_seen_at=timezone.now() - timedelta(hours=2))
    firelane_sweep()
    firelane_sweep()
    fl_camera.refresh_from_db()
    assert fl_camera.status == "offline"
    notes = OutboxMessage.objects.filter(kind="dingtalk_work", reference=fl_camera.serial)
    assert notes.count() == 1
    # A camera never heard from (not installed yet) is offline without an alarm.
    never = Camera.objects.exclude(pk=fl_camera.pk).first()
    assert never is not None
    Camera.objects.filter(pk=never.pk).update(last_seen_at=None, status="online")
    firelane_sweep()
    never.refresh_from_db()
    assert never.status == "offline"
    assert not OutboxMessage.objects.filter(reference=never.serial).exists()
    # Back online: the next outage is told again.
    Camera.objects.filter(pk=fl_camera.pk).update(last_seen_at=timezone.now())
    firelane_sweep()
    fl_camera.refresh_from_db()
    assert fl_camera.status == "online" and fl_camera.offline_notified_at is None
