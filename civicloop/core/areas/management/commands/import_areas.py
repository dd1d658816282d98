from typing import TextIO

from civicloop.core.areas.csv_command import CsvImportCommand
from civicloop.core.areas.services import ImportReport, areas_import_csv


class Command(CsvImportCommand):
    help = "Import areas from a UTF-8 CSV file (see civicloop/core/areas/data/ for the format)."

    def run_import(self, stream: TextIO) -> ImportReport:
        return areas_import_csv(stream=stream)
