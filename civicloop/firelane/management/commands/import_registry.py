from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from civicloop.firelane.vehicles.mirror import ImportRefused, registry_import


class _BarStream:
    """The command's stderr as tqdm wants it: written as is (no added newline or colour)."""

    def __init__(self, out: OutputWrapper) -> None:
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text, style_func=lambda s: s, ending="")

    def flush(self) -> None:
        self.out.flush()


class Command(BaseCommand):
    help = (
        "Replace the local vehicle registry mirror with a full CSV export (hphm,hpzl,syr,sjhm). "
        "An interrupted import continues where it stopped when run again on the same file; "
        "a finished file is not imported twice (--force to do it anyway)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--force", action="store_true", help="import a finished file again")
        parser.add_argument(
            "--workers",
            type=int,
            default=2,
            help="processes that parse and encrypt (0: all in this process; default 2)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            report = registry_import(
                path=file,
                force=options["force"],
                workers=max(0, options["workers"]),
                progress=None if options["no_progress"] else _BarStream(self.stderr),  # type: ignore[arg-type]
            )
        except ImportRefused as exc:
            raise CommandError(str(exc)) from exc
        if report.skipped:
            self.stdout.write(f"{file.name}: already imported; nothing to do (--force to redo).")
            return
        if report.resumed_from_bytes:
            self.stdout.write(f"resumed at byte {report.resumed_from_bytes:,}")
        reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(report.bad_reasons.items()))
        self.stdout.write(
            f"{file.name}: {report.state}; {report.rows_loaded:,} vehicles in the mirror, "
            f"{report.rows_bad:,} bad rows skipped{f' ({reasons})' if reasons else ''}, "
            f"{report.rows_duplicate:,} duplicates; this run read {report.rows_this_run:,} rows "
            f"in {report.seconds:.1f} s ({report.rows_per_s:,.0f} rows/s)"
        )
