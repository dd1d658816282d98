"""The plate reader: normalization rules, similarity, colour, reading the shared
labelled images (crops and scenes), an accuracy floor over the whole set, and the
read_plate command. The OCR model loads once per process (about 1 s)."""

from __future__ import annotations

import csv
import io
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from PIL import Image, ImageDraw

from civicloop.firelane.plates import (
    CONFIDENCE_REVIEW_BELOW,
    PlateReading,
    plate_is_valid,
    plate_normalize,
    plate_read,
    plates_similar,
)
from civicloop.firelane.plates.color import plate_color
from civicloop.firelane.plates.reader import PlateImageError, looks_like_crop

PLATES_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "plates"
ACCURACY_FLOOR = 0.97


def labels() -> list[dict[str, str]]:
    with (PLATES_DIR / "labels.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def label_of(name: str) -> dict[str, str]:
    return next(row for row in labels() if row["file"] == name)


def png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


# --------------------------------------------------------------------- normalization


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("浙J12345", "浙J12345"),
        ("浙J·12345", "浙J12345"),  # separator dot
        ("浙 J-123.45", "浙J12345"),  # spaces, dashes, dots
        ("浙j12345", "浙J12345"),  # case
        ("浙Ｊ１２３４５", "浙J12345"),  # full-width
        ("浙JO1I23", "浙J01123"),  # no I/O in plates: they are 0/1 after the letter
        ("浙DA123", None),  # 6 characters: too short for a plate
        ("浙8A1234", "浙BA1234"),  # a digit in the letter position: the letter it looks like
        ("蓝浙J12345", "浙J12345"),  # colour word cameras put in front
        ("12345 浙J", "浙J12345"),  # two-row plate read bottom row first
        ("浙J\n12345", "浙J12345"),  # two-row plate, top row first
        ("浙J1234挂", "浙J1234挂"),  # trailer
    ],
)
def test_normalize_ordinary(text: str, expected: str | None) -> None:
    # Given camera or OCR text, when normalized, then the canonical plate (or None)
    assert plate_normalize(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("皖KD01833", "皖KD01833"),  # small new-energy car, pure electric
        ("湘DF08808", "湘DF08808"),  # small, hybrid
        ("皖K001833", "皖KD01833"),  # small: a 0 where D/F must be is the D
        ("皖KDO1833", "皖KD01833"),  # O → 0
        ("皖KDA18S3", "皖KDA1853"),  # small: last four are digits, S → 5
        ("粤B12345D", "粤B12345D"),  # large new-energy car: D/F last
        ("粤B1234SF", "粤B12345F"),  # large: five digits, S → 5
        ("粤B123450", "粤B12345D"),  # large: a 0 where D/F must be
    ],
)
def test_normalize_new_energy_df_rule(text: str, expected: str) -> None:
    # Given an 8-character (green) plate, then GA 36-2018's D/F position rule applies
    assert plate_normalize(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "无车牌",
        "车牌",
        "ABC1234",
        "浙12345",
        "浙JI",
        "浙J123456789",
        "X浙J12345",
        "浙J12",
        "浙J1234A5",
    ],
)
def test_normalize_rejects_non_plates(text: str) -> None:
    # Given text that is no plate, then None
    assert plate_normalize(text) is None


def test_normalize_rejects_eight_chars_without_df() -> None:
    # Given 8 characters with no D/F at either end, then it is no new-energy plate
    assert plate_normalize("浙A123456") is None
    assert not plate_is_valid("浙A123456")


def test_plates_similar() -> None:
    # Same plate, separators aside
    assert plates_similar("浙J12345", "浙J·12345")
    # One OCR substitution in the serial
    assert plates_similar("浙J12345", "浙J12845")
    # The province alone differs
    assert plates_similar("浙J12345", "皖J12345")
    # Province and one more character: two substitutions
    assert not plates_similar("浙J12345", "皖J12845")
    assert not plates_similar("浙J12345", "浙J12867")
    # Different lengths (ordinary vs new-energy) are different cars
    assert not plates_similar("皖KD0183", "皖KD01833")
    assert not plates_similar("", "")


# --------------------------------------------------------------------- colour


def solid_plate(background: tuple[int, int, int], ink: tuple[int, int, int]) -> Image.Image:
    """A 440x140 mm plate at half a pixel per mm, seven glyph-like stroke boxes."""
    image = Image.new("RGB", (220, 70), background)
    draw = ImageDraw.Draw(image)
    for i in range(7):
        x = 14 + i * 29
        draw.rectangle((x, 15, x + 16, 55), outline=ink, width=3)
        draw.line((x, 35, x + 16, 35), fill=ink, width=3)
    return image


def gradient_green_plate() -> Image.Image:
    image = Image.new("RGB", (240, 70))
    draw = ImageDraw.Draw(image)
    for y in range(70):
        t = y / 69
        draw.line((0, y, 239, y), fill=(int(235 - 140 * t), int(245 - 45 * t), int(235 - 120 * t)))
    for i in range(8):
        x = 12 + i * 28
        draw.rectangle((x, 18, x + 14, 55), fill=(10, 10, 10))
    return image


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (solid_plate((20, 60, 200), (240, 240, 240)), "blue"),
        (solid_plate((240, 200, 20), (10, 10, 10)), "yellow"),
        (gradient_green_plate(), "green"),
        (solid_plate((240, 240, 240), (10, 10, 10)), "white"),
        (solid_plate((15, 15, 15), (240, 240, 240)), "black"),
    ],
)
def test_color_of_synthetic_plates(image: Image.Image, expected: str) -> None:
    # Given a drawn plate of a known background, when classified, then that colour
    import cv2
    import numpy as np

    bgr = cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)
    assert plate_color(bgr) == expected


# --------------------------------------------------------------------- reading


@pytest.mark.parametrize(
    "name",
    [
        "lprnet_0001.jpg",  # 94x24 blue crop
        "hyperlpr_crop_0002.jpg",  # larger blue crop
        "hyperlpr_crop_0004.jpg",  # green new-energy crop (8 characters)
        "hyperlpr_crop_0005.jpg",  # yellow crop
    ],
)
def test_read_crops(name: str) -> None:
    # Given a labelled plate crop, when read as the intake does (auto), then plate and colour
    row = label_of(name)
    reading = plate_read(image=(PLATES_DIR / name).read_bytes())
    assert isinstance(reading, PlateReading)
    assert (reading.plate, reading.color, reading.kind) == (row["plate"], row["color"], "crop")
    assert reading.box is None
    assert CONFIDENCE_REVIEW_BELOW <= reading.confidence <= 1.0


@pytest.mark.parametrize(
    "name",
    [
        "ccpd_scene_0001.jpg",  # blue, parking lot
        "hyperlpr_scene_0001.jpg",  # green new-energy
        "hyperlpr_scene_0010.jpg",  # yellow, toll gate
        "hyperlpr_scene_0018.jpg",  # wide photo (2.25:1) that is still a scene
        # The colour region reads unsurely or wrongly; the text detector in a window
        # around it reads the plate (and the whole-scene detector is skipped).
        "ccpd_scene_0005.jpg",
        "hyperlpr_scene_0012.jpg",
        "hyperlpr_scene_0017.jpg",  # no plate-coloured region: whole-scene detector
    ],
)
def test_read_scenes(name: str) -> None:
    # Given a labelled scene photo, when read (auto), then plate, colour and a box
    row = label_of(name)
    reading = plate_read(image=(PLATES_DIR / name).read_bytes())
    assert (reading.plate, reading.color, reading.kind) == (row["plate"], row["color"], "scene")
    assert reading.box is not None
    x1, y1, x2, y2 = reading.box
    assert 0.0 <= x1 < x2 <= 1.0 and 0.0 <= y1 < y2 <= 1.0
    assert (x2 - x1) * (y2 - y1) < 0.25  # a plate, not the whole photo


def test_scene_box_frames_the_plate() -> None:
    # Given a scene, when its plate box is cut out and read as a crop, then the same plate
    name = "hyperlpr_scene_0016.jpg"
    data = (PLATES_DIR / name).read_bytes()
    reading = plate_read(image=data, kind="scene")
    image = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = image.size
    assert reading.box is not None
    x1, y1, x2, y2 = reading.box
    crop = image.crop((int(x1 * w), int(y1 * h), int(x2 * w), int(y2 * h)))
    again = plate_read(image=png(crop), kind="crop")
    assert again.plate == reading.plate == label_of(name)["plate"]


def test_no_plate_in_an_empty_scene() -> None:
    # Given a photo with no plate at all, then an empty reading, not a guess
    image = Image.new("RGB", (640, 480), (90, 110, 130))
    ImageDraw.Draw(image).rectangle((100, 300, 540, 420), fill=(60, 60, 60))
    reading = plate_read(image=png(image))
    assert (reading.plate, reading.color, reading.box) == ("", "", None)
    assert reading.confidence == 0.0


def test_unreadable_bytes_raise() -> None:
    with pytest.raises(PlateImageError):
        plate_read(image=b"this is not an image")
    with pytest.raises(ValueError):
        plate_read(image=b"", kind="crop")
    with pytest.raises(ValueError):
        plate_read(image=(PLATES_DIR / "lprnet_0001.jpg").read_bytes(), kind="sideways")


def test_auto_kind_by_shape() -> None:
    import numpy as np

    assert looks_like_crop(np.zeros((24, 94, 3), np.uint8))
    assert looks_like_crop(np.zeros((111, 337, 3), np.uint8))
    assert looks_like_crop(np.zeros((110, 220, 3), np.uint8))  # two-row plate
    assert not looks_like_crop(np.zeros((345, 775, 3), np.uint8))
    assert not looks_like_crop(np.zeros((480, 640, 3), np.uint8))


def test_reader_is_thread_safe() -> None:
    # Given crops and scenes read from several threads at once, then each gets its own
    # reading (rapidocr keeps per-call options, so a leak between threads would show)
    names = ["lprnet_0002.jpg", "hyperlpr_scene_0005.jpg", "lprnet_0003.jpg", "ccpd_scene_0002.jpg"]
    expected = {n: label_of(n)["plate"] for n in names}
    got: dict[str, str] = {}

    def work(name: str) -> None:
        got[name] = plate_read(image=(PLATES_DIR / name).read_bytes()).plate

    threads = [threading.Thread(target=work, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == expected


def test_accuracy_floor_over_the_labelled_set() -> None:
    # Given every labelled image, when read as the intake does, then at least the floor
    # is read exactly, and colour is right as often
    rows = labels()
    plates = colors = 0
    for row in rows:
        reading = plate_read(image=(PLATES_DIR / row["file"]).read_bytes(), kind="auto")
        plates += reading.plate == row["plate"]
        colors += reading.color == row["color"]
    assert plates / len(rows) >= ACCURACY_FLOOR, f"{plates}/{len(rows)} plates exact"
    assert colors / len(rows) >= ACCURACY_FLOOR, f"{colors}/{len(rows)} colours right"


# --------------------------------------------------------------------- command


def test_read_plate_command(tmp_path: Path) -> None:
    # Given a crop, a scene, a file that is no image and a missing file
    junk = tmp_path / "junk.jpg"
    junk.write_text("no image here")
    crop, scene = PLATES_DIR / "lprnet_0001.jpg", PLATES_DIR / "hyperlpr_scene_0001.jpg"
    missing = tmp_path / "missing.png"
    out, err = io.StringIO(), io.StringIO()
    # When read_plate runs over them
    with pytest.raises(SystemExit) as exited:
        call_command(
            "read_plate", str(crop), str(junk), str(scene), str(missing), stdout=out, stderr=err
        )
    # Then one tab-separated line per file, in order, empty plate for the failures,
    # the reasons on stderr and a non-zero exit
    assert exited.value.code == 1
    lines = out.getvalue().splitlines()
    assert len(lines) == 4
    fields = [line.split("\t") for line in lines]
    assert all(len(f) == 4 for f in fields)
    assert fields[0][:3] == [str(crop), label_of(crop.name)["plate"], "blue"]
    assert fields[2][:3] == [str(scene), label_of(scene.name)["plate"], "green"]
    assert fields[1][:3] == [str(junk), "", ""]
    assert fields[3][:3] == [str(missing), "", ""]
    for f in fields:
        assert 0.0 <= float(f[3]) <= 1.0 and len(f[3].split(".")[1]) in (2, 3)
    assert "junk.jpg" in err.getvalue() and "missing.png" in err.getvalue()


def test_read_plate_command_all_good_exits_zero() -> None:
    out = io.StringIO()
    call_command("read_plate", str(PLATES_DIR / "lprnet_0002.jpg"), stdout=out)
    assert out.getvalue().count("\n") == 1


def test_reads_offline_with_bundled_models(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no network at all (any connection attempt fails)
    import socket

    from civicloop.firelane.plates import engine

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the plate reader tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    # When a scene is read, then it is read, from the models inside the rapidocr wheel
    name = "hyperlpr_scene_0009.jpg"
    assert plate_read(image=(PLATES_DIR / name).read_bytes()).plate == label_of(name)["plate"]
    models = engine.bundled_model_dir()
    built = engine._get()
    assert Path(built.cfg.Rec.model_path).parent == models
    assert Path(built.cfg.Det.model_path).parent == models
