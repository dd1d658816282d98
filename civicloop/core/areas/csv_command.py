"""The shared shape of the CSV import commands (import_areas, import_units)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from civicloop.core.areas.errors import ImportFailed
from civicloop.core.areas.services import ImportReport


class CsvImportCommand(BaseCommand):
    """Read one UTF-8 CSV file (a BOM from Excel is fine) with `importer`; a refused file
    changes nothing and every bad line is printed."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)

    def handle(self, *args: Any, path: Path, **options: Any) -> None:
        if not path.exists():
            raise CommandError(f"File not found: {path}")
        try:
            with path.open(encoding="utf-8-sig", newline="") as stream:
                report = self.run_import(stream)
        except ImportFailed as exc:
            raise CommandError(
                "Import refused, nothing changed:\n" + "\n".join(exc.errors)
            ) from exc
        self.stdout.write(
            f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}"
        )

    def run_import(self, stream: TextIO) -> ImportReport:
        raise NotImplementedError
