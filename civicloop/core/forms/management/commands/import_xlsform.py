"""`manage.py import_xlsform FILE.xlsx --app CODE`: create an application from an
XLSForm, or give an existing one the next form version. Prints the version number
(alone on stdout); exits non-zero with pyxform's message (and the sheet and row) when
the form is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from civicloop.core.forms.errors import FormError
from civicloop.core.forms.services import application_import_xlsform

MAX_BYTES = 5 * 1024 * 1024


class Command(BaseCommand):
    help = "Import an XLSForm as an application's form (a new version when it changed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the XLSForm (.xlsx, .xls, .csv or .md)")
        parser.add_argument(
            "--app", required=True, help="the application's code, e.g. visit_register"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        if path.stat().st_size > MAX_BYTES:
            raise CommandError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MB")
        with translation.override("zh-hans"):
            try:
                app, version, created = application_import_xlsform(
                    code=options["app"], data=path.read_bytes(), filename=path.name
                )
            except FormError as exc:
                where = f" ({exc.where})" if exc.where else ""
                raise CommandError(f"{exc.message}{where}") from exc
        # The version alone on stdout (for scripts); what happened on stderr.
        state = "new version" if created else "unchanged, same file"
        self.stderr.write(f"{app.code}: form version {version.version} ({state})")
        self.stdout.write(str(version.version))
