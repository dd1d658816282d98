from typing import TextIO

from civicloop.core.areas.csv_command import CsvImportCommand
from civicloop.core.areas.services import ImportReport
from civicloop.core.units.services import units_import_csv


class Command(CsvImportCommand):
    help = "Import units from a UTF-8 CSV file (see civicloop/core/units/data/ for the format)."

    def run_import(self, stream: TextIO) -> ImportReport:
        return units_import_csv(stream=stream)
