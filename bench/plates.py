"""Benchmark of the plate reader on a labelled image set (prints figures; not a test).

Every image is read the way the intake reads it, `plate_read(kind="auto")`, and, in the
same run, by plain rapidocr as the baseline: detection + recognition (use_cls off), the
text joined and searched with a simple plate regex; when detection finds nothing (a
tight plate crop often has no detectable line) the whole image goes to the recogniser
alone, the plain way to read a crop.

    .venv/bin/python bench/plates.py [DIR]     # DIR defaults to ../shared/testdata/plates

DIR/labels.csv has the columns file,plate,color (others ignored). Printed: exact-plate
accuracy per colour and per kind for both readers, colour accuracy, median and p95 ms
per image (overall and scenes only), peak memory (ru_maxrss), the misreads, and last
one summary line: accuracy=... n=... median_ms=... p95_ms=... peak_mb=...
"""

from __future__ import annotations

import argparse
import csv
import re
import resource
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DIR = ROOT.parent / "shared" / "testdata" / "plates"
PLATE_RE = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z][A-HJ-NP-Z0-9]{5,6}"
)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def baseline_read(data: bytes) -> str:
    """Plain rapidocr: det + rec, regex on the joined text (rec alone if det is empty)."""
    from civicloop.firelane.plates.engine import text_plain

    text = text_plain(data, use_det=True) or text_plain(data, use_det=False)
    text = re.sub(r"[\s·.\-]", "", text)
    match = PLATE_RE.search(text)
    if not match:
        return ""
    plate = match.group(0)
    # A 7-character plate followed by one stray character is still the 7-character plate.
    if len(plate) == 8 and plate[2] not in "DF" and plate[-1] not in "DF":
        plate = plate[:7]
    return plate


def table(title: str, groups: dict[str, list[bool]]) -> None:
    print(title)
    for key in sorted(groups):
        hits = groups[key]
        print(f"  {key:<14} {sum(hits):>4}/{len(hits):<4} {sum(hits) / len(hits):7.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("dir", nargs="?", default=str(DEFAULT_DIR))
    parser.add_argument("--no-baseline", action="store_true", help="skip plain rapidocr")
    args = parser.parse_args()
    base = Path(args.dir)
    with (base / "labels.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))

    from civicloop.firelane.plates import plate_read

    # Load the model once before timing, as a long-running worker would have it.
    warm = (base / rows[0]["file"]).read_bytes()
    plate_read(image=warm)

    ours: dict[str, list[bool]] = defaultdict(list)
    plain: dict[str, list[bool]] = defaultdict(list)
    color_ok: dict[str, list[bool]] = defaultdict(list)
    times: list[float] = []
    scene_times: list[float] = []
    misreads: list[str] = []
    for row in rows:
        data = (base / row["file"]).read_bytes()
        kind = row.get("kind") or "?"
        started = time.perf_counter()
        reading = plate_read(image=data, kind="auto")
        elapsed = (time.perf_counter() - started) * 1000
        times.append(elapsed)
        if kind == "scene":
            scene_times.append(elapsed)
        hit = reading.plate == row["plate"]
        for key in (f"color={row['color']}", f"kind={kind}", "all"):
            ours[key].append(hit)
            color_ok[key].append(reading.color == row["color"])
        if not hit or reading.color != row["color"]:
            misreads.append(
                f"  {row['file']}: label {row['plate']} {row['color']}, read "
                f"{reading.plate or '-'} {reading.color or '-'} conf {reading.confidence:.2f}"
            )

    baseline_times: list[float] = []
    if not args.no_baseline:
        for row in rows:
            data = (base / row["file"]).read_bytes()
            started = time.perf_counter()
            got = baseline_read(data)
            baseline_times.append((time.perf_counter() - started) * 1000)
            hit = got == row["plate"]
            for key in (f"color={row['color']}", f"kind={row.get('kind') or '?'}", "all"):
                plain[key].append(hit)

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table("plate_read(kind='auto'): exact plate", ours)
    table("plate_read(kind='auto'): colour", color_ok)
    if plain:
        table("plain rapidocr baseline: exact plate", plain)
        print(f"  baseline median {statistics.median(baseline_times):.0f} ms/image")
    print("misreads:" if misreads else "misreads: none")
    for line in misreads:
        print(line)
    print(
        f"time ms/image: median {statistics.median(times):.0f}, p95 {pct(times, 0.95):.0f}; "
        f"scenes median {statistics.median(scene_times) if scene_times else 0:.0f}, "
        f"p95 {pct(scene_times, 0.95):.0f}; peak memory {peak_mb:.0f} MB (ru_maxrss, "
        "one engine shared with the baseline)"
    )
    accuracy = sum(ours["all"]) / len(ours["all"])
    print(
        f"accuracy={accuracy:.3f} n={len(rows)} median_ms={statistics.median(times):.0f} "
        f"p95_ms={pct(times, 0.95):.0f} peak_mb={peak_mb:.0f}"
    )


if __name__ == "__main__":
    main()
