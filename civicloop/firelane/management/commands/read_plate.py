from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from civicloop.firelane.plates import plate_read
from civicloop.firelane.plates.reader import PlateImageError


class Command(BaseCommand):
    help = (
        "Read the licence plate of each image file (crop or scene, decided from the image). "
        "Prints FILE<TAB>PLATE<TAB>COLOR<TAB>CONFIDENCE per file; exits 1 if any file "
        "could not be opened as an image."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args: Any, **options: Any) -> None:
        failed = 0
        for name in options["files"]:
            try:
                data = Path(name).read_bytes()
                reading = plate_read(image=data, kind="auto")
            except (OSError, PlateImageError) as exc:
                failed += 1
                self.stderr.write(f"{name}: {exc}")
                self.stdout.write(f"{name}\t\t\t0.00")
                continue
            self.stdout.write(f"{name}\t{reading.plate}\t{reading.color}\t{reading.confidence:.2f}")
        if failed:
            raise SystemExit(1)
