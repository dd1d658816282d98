"""The local mirror of the provincial vehicle registry: loading a full CSV export, and the
one-row read a lookup needs.

An export (UTF-8, header line; columns hphm,hpzl,syr,sjhm, others ignored) replaces the
whole mirror. What `registry_import` guarantees:

* Lookups keep working on the previous mirror during the whole import: rows go into a
  staging table; its indexes are built there; the swap (drop the old table, rename the
  staging one) is one short transaction, so a reader sees the old mirror or the new one.
* Streaming and exactly once: the file is read in newline-aligned pieces; each batch of
  pieces is written (PostgreSQL: COPY FROM STDIN through psycopg 3; SQLite: executemany)
  in the same transaction as the byte offset and row count it reaches (RegistryImport).
  Ctrl-C or a crash loses at most the batch in flight; running the command again on the
  same file continues from the last committed offset. A finished file is not loaded twice.
* Bad rows (wrong column count, invalid plate or kind, broken UTF-8) are skipped and
  counted per reason; a plate+kind that appears twice keeps its last row (counted too).
* Owner name and phone are sealed (AES-256-GCM, vehicles/crypto.py) before they reach the
  database. Sealing and parsing may run in worker processes (`workers`), the main process
  only reads the file and feeds the database.

A file is recognised by a fingerprint (size, modification time, first and last MiB): hashing
every byte of a 1 GB export on each run would cost more than it protects. A new export is a
new file (new mtime); the same file copied with its mtime kept is recognised; `force`
loads a file again.
"""

from __future__ import annotations

import binascii
import csv
import hashlib
import logging
import multiprocessing
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from tqdm import tqdm

from civicloop.firelane.errors import ImportRefused, RegistryImportCode
from civicloop.firelane.models import RegistryImport, VehicleRecord
from civicloop.firelane.plates.normalize import plate_spelling
from civicloop.firelane.vehicles.client import ZHEJIANG_PLATE
from civicloop.firelane.vehicles.crypto import (
    NONCE_BYTES,
    SEPARATOR,
    Sealer,
    aad,
    new_salt,
    owner_open,
    sealer_new,
)

log = logging.getLogger("civicloop.firelane.vehicles")

REQUIRED_COLUMNS = ("hphm", "hpzl", "syr", "sjhm")
LIVE_TABLE = VehicleRecord._meta.db_table
STAGING_TABLE = LIVE_TABLE + "_load"
UNIQUE_NAME = "vehicle_plate_kind"  # VehicleRecord.Meta.constraints
FINGERPRINT_EDGE_BYTES = 1 << 20
PIECE_BYTES = 1 << 20
BATCH_BYTES = 64 << 20  # one transaction: ~650,000 rows, a few seconds of work
_KINDS = frozenset(f"{i:02d}" for i in range(100))
_LOOKUP_SQL = f"SELECT plate_kind, owner_sealed FROM {LIVE_TABLE} WHERE plate = %s"  # noqa: S608
# Any constant: only this command takes the lock (pg_try_advisory_lock).
_LOCK_KEY = 0x7EB1C1E


@dataclass
class ImportReport:
    """What one run of `registry_import` did."""

    file_name: str
    state: str
    skipped: bool = False  # the file was imported before: nothing done
    resumed_from_bytes: int = 0
    rows_loaded: int = 0  # good rows of the file in the mirror (or staging, if unfinished)
    rows_bad: int = 0
    bad_reasons: dict[str, int] = field(default_factory=dict)
    rows_duplicate: int = 0
    rows_this_run: int = 0  # rows read (good and bad) by this run
    seconds: float = 0.0
    # Where this run's time went: "load" (read, check, seal, write), "index", "swap".
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float:
        return self.rows_this_run / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class _Layout:
    columns: int
    plate: int
    kind: int
    name: int
    phone: int


@dataclass
class _Piece:
    end: int  # file offset just after the piece's last line
    rows: int  # lines read (good + bad)
    good: int
    bad: Counter[str]
    payload: Any  # COPY text (bytes) on PostgreSQL, row tuples on SQLite


# --------------------------------------------------------------------------- the file


def file_fingerprint(path: Path) -> str:
    """SHA-256 over size, mtime and the first and last MiB (see the module docstring)."""
    stat = path.stat()
    digest = hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}:".encode())
    with path.open("rb") as fh:
        digest.update(fh.read(FINGERPRINT_EDGE_BYTES))
        if stat.st_size > FINGERPRINT_EDGE_BYTES:
            fh.seek(max(FINGERPRINT_EDGE_BYTES, stat.st_size - FINGERPRINT_EDGE_BYTES))
            digest.update(fh.read())
    return digest.hexdigest()


def _read_header(path: Path) -> tuple[_Layout, int]:
    with path.open("rb") as fh:
        first = fh.readline()
    if not first.strip():
        raise ImportRefused(RegistryImportCode.NO_HEADER, file=path.name)
    header = [c.strip().lower() for c in next(csv.reader([first.decode("utf-8-sig").strip()]))]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ImportRefused(
            RegistryImportCode.MISSING_COLUMNS, file=path.name, columns=", ".join(missing)
        )
    layout = _Layout(
        columns=len(header),
        plate=header.index("hphm"),
        kind=header.index("hpzl"),
        name=header.index("syr"),
        phone=header.index("sjhm"),
    )
    return layout, len(first)


def _pieces(path: Path, start: int, piece_bytes: int) -> Iterator[tuple[int, bytes]]:
    """(end offset, bytes) of consecutive newline-aligned pieces from `start` to EOF."""
    with path.open("rb") as fh:
        fh.seek(start)
        offset = start
        carry = b""
        while True:
            block = fh.read(piece_bytes)
            if not block:
                if carry:
                    yield offset + len(carry), carry
                return
            data = carry + block
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data
                continue
            offset += cut
            carry = data[cut:]
            yield offset, data[:cut]


def _lines(data: bytes, bad: Counter[str]) -> list[str]:
    try:
        return data.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        lines = []
        for raw in data.split(b"\n"):
            try:
                lines.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                bad["encoding"] += 1
        return lines


def _prepare(job: tuple[int, bytes, _Layout, Sealer, bool]) -> _Piece:
    """Parse, check and seal one piece (runs in a worker process when there are any).

    The hot loop of the import (~2 µs a row): tokens are built inline, in the format of
    `Sealer.seal`, rather than through a call per row."""
    end, data, layout, sealer, as_copy = job
    bad: Counter[str] = Counter()
    lines = _lines(data, bad)
    nonces = os.urandom(NONCE_BYTES * len(lines))  # one getrandom() for the piece
    encrypt, prefix, b64 = sealer.encrypt, sealer.prefix, binascii.b2a_base64
    is_plate, kinds = ZHEJIANG_PLATE.match, _KINDS
    columns, i_plate, i_kind = layout.columns, layout.plate, layout.kind
    i_name, i_phone = layout.name, layout.phone
    copy_lines: list[bytes] = []
    rows: list[tuple[str, str, str]] = []
    at = 0
    for row in csv.reader(lines):
        if len(row) != columns:
            if row:  # a blank line is not a row
                bad["columns"] += 1
            continue
        plate = row[i_plate].strip().upper()
        if is_plate(plate) is None:
            bad["plate"] += 1
            continue
        kind = row[i_kind].strip()
        if kind not in kinds:
            bad["kind"] += 1
            continue
        # U+001F joins name and phone inside the seal: it must not occur in either.
        clear = f"{row[i_name].strip()}{SEPARATOR}{row[i_phone].strip()}"
        if clear.count(SEPARATOR) != 1:
            name, phone = row[i_name].replace(SEPARATOR, ""), row[i_phone].replace(SEPARATOR, "")
            clear = f"{name.strip()}{SEPARATOR}{phone.strip()}"
        head = aad(plate, kind)
        nonce = nonces[at : at + NONCE_BYTES]
        at += NONCE_BYTES
        token = b64(prefix + nonce + encrypt(nonce, clear.encode("utf-8"), head), newline=False)
        if as_copy:
            # head is "plate TAB kind TAB"; plates, kinds (checked above) and base64 hold no
            # tab, newline or backslash: COPY's text format needs no escaping.
            copy_lines.append(head + token + b"\n")
        else:
            rows.append((plate, kind, token.decode("ascii")))
    good = len(copy_lines) + len(rows)
    payload: Any = b"".join(copy_lines) if as_copy else rows
    return _Piece(end=end, rows=good + sum(bad.values()), good=good, bad=bad, payload=payload)


# --------------------------------------------------------------------------- the database


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def _table_exists(name: str) -> bool:
    with connection.cursor() as cur:
        return name in connection.introspection.table_names(cur)


def _staging_create() -> None:
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {STAGING_TABLE}")
        if _is_postgres():
            # Same columns (and an identity of its own), no index: indexes are built once,
            # after the last row, which is far cheaper than maintaining them per row.
            cur.execute(
                f"CREATE TABLE {STAGING_TABLE} "
                f"(LIKE {LIVE_TABLE} INCLUDING DEFAULTS INCLUDING IDENTITY)"
            )
        else:
            cur.execute(
                f"CREATE TABLE {STAGING_TABLE} (plate TEXT NOT NULL, plate_kind TEXT NOT NULL, "
                "owner_sealed TEXT NOT NULL)"
            )


@contextmanager
def _staging_writer() -> Iterator[Callable[[_Piece], None]]:
    """A function writing pieces into the staging table, within the current transaction:
    one COPY stream on PostgreSQL, executemany on SQLite."""
    with connection.cursor() as cur:
        if _is_postgres():
            copy_sql = f"COPY {STAGING_TABLE} (plate, plate_kind, owner_sealed) FROM STDIN"
            with cur.cursor.copy(copy_sql) as copy:
                yield lambda piece: copy.write(piece.payload)
        else:
            sql = (
                f"INSERT INTO {STAGING_TABLE} (plate, plate_kind, owner_sealed) VALUES (%s, %s, %s)"  # noqa: S608 (our own table names)
            )
            yield lambda piece: cur.executemany(sql, piece.payload)


def _swap_postgres(job: RegistryImport, phases: dict[str, float]) -> int:
    """Index the staging table, drop duplicates if the index finds any, and swap it in.
    Returns the number of duplicate rows removed."""
    duplicates = 0
    mark = time.perf_counter()
    with connection.cursor() as cur:
        # Index builds sort the whole table: give them memory and both cores.
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute("SET max_parallel_maintenance_workers = 2")
        cur.execute(f"DROP INDEX IF EXISTS {STAGING_TABLE}_key")
        try:
            with transaction.atomic():
                cur.execute(
                    f"CREATE UNIQUE INDEX {STAGING_TABLE}_key ON {STAGING_TABLE} (plate, plate_kind)"
                )
        except IntegrityError:
            # Rare in a clean export, so only paid for when the index says so: keep the
            # last row of each plate+kind (the file's order is the identity order).
            with transaction.atomic():
                cur.execute(
                    f"""DELETE FROM {STAGING_TABLE} s USING (
                            SELECT plate, plate_kind, max(id) AS keep FROM {STAGING_TABLE}
                            GROUP BY plate, plate_kind HAVING count(*) > 1) d
                        WHERE s.plate = d.plate AND s.plate_kind = d.plate_kind
                          AND s.id <> d.keep"""  # noqa: S608
                )
                duplicates = cur.rowcount
                cur.execute(
                    f"CREATE UNIQUE INDEX {STAGING_TABLE}_key ON {STAGING_TABLE} (plate, plate_kind)"
                )
        cur.execute(f"ALTER TABLE {STAGING_TABLE} DROP CONSTRAINT IF EXISTS {STAGING_TABLE}_pkey")
        cur.execute(
            f"ALTER TABLE {STAGING_TABLE} ADD CONSTRAINT {STAGING_TABLE}_pkey PRIMARY KEY (id)"
        )
        cur.execute(f"ANALYZE {STAGING_TABLE}")
        phases["index"] = time.perf_counter() - mark
        mark = time.perf_counter()
        with transaction.atomic():
            # The short part: readers wait for this transaction only, then see the new table.
            cur.execute(f"DROP TABLE {LIVE_TABLE}")
            cur.execute(f"ALTER TABLE {STAGING_TABLE} RENAME TO {LIVE_TABLE}")
            cur.execute(
                f"ALTER TABLE {LIVE_TABLE} RENAME CONSTRAINT {STAGING_TABLE}_pkey TO {LIVE_TABLE}_pkey"
            )
            cur.execute(
                f"ALTER TABLE {LIVE_TABLE} ADD CONSTRAINT {UNIQUE_NAME} "
                f"UNIQUE USING INDEX {STAGING_TABLE}_key"
            )
            cur.execute(
                f"ALTER SEQUENCE IF EXISTS {STAGING_TABLE}_id_seq RENAME TO {LIVE_TABLE}_id_seq"
            )
            _finish(job, duplicates)
        phases["swap"] = time.perf_counter() - mark
        cur.execute("RESET maintenance_work_mem")
        cur.execute("RESET max_parallel_maintenance_workers")
    return duplicates


def _swap_sqlite(job: RegistryImport, phases: dict[str, float]) -> int:
    mark = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {STAGING_TABLE}")  # noqa: S608 (our own table names)
        loaded = cur.fetchone()[0]
        cur.execute(f"DELETE FROM {LIVE_TABLE}")  # noqa: S608 (our own table names)
        cur.execute(
            f"""INSERT INTO {LIVE_TABLE} (plate, plate_kind, owner_sealed)
                SELECT plate, plate_kind, owner_sealed FROM {STAGING_TABLE}
                WHERE rowid IN (SELECT max(rowid) FROM {STAGING_TABLE} GROUP BY plate, plate_kind)
                ORDER BY rowid"""  # noqa: S608
        )
        cur.execute(f"SELECT count(*) FROM {LIVE_TABLE}")  # noqa: S608 (our own table names)
        duplicates = loaded - cur.fetchone()[0]
        cur.execute(f"DROP TABLE {STAGING_TABLE}")
        _finish(job, duplicates)
    phases["swap"] = time.perf_counter() - mark
    return int(duplicates)


def _finish(job: RegistryImport, duplicates: int) -> None:
    job.rows_duplicate = duplicates
    job.state = RegistryImport.State.DONE
    job.finished_at = timezone.now()
    job.save(update_fields=["rows_duplicate", "state", "finished_at"])


class _ImportLock:
    """One import at a time (they share the staging table). PostgreSQL: a session advisory
    lock, released by the server even if this process dies. SQLite: its write lock and the
    single-machine deployment make this moot."""

    def __enter__(self) -> None:
        if not _is_postgres():
            return
        with connection.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", [_LOCK_KEY])
            if not cur.fetchone()[0]:
                raise ImportRefused(RegistryImportCode.RUNNING)

    def __exit__(self, *exc: object) -> None:
        if _is_postgres() and connection.connection is not None:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])


# --------------------------------------------------------------------------- the service


def registry_import(
    *,
    path: Path,
    force: bool = False,
    workers: int = 0,
    batch_bytes: int = BATCH_BYTES,
    piece_bytes: int = PIECE_BYTES,
    max_batches: int | None = None,
    on_batch: Callable[[RegistryImport], None] | None = None,
    progress: IO[str] | None = None,
) -> ImportReport:
    """Load a full registry export into the mirror (see the module docstring).

    `workers` > 0 parses and seals in that many processes. `max_batches` stops after that
    many committed batches, leaving the import resumable (pacing, tests); `on_batch` is
    called inside each batch's transaction just before it commits (an exception there
    rolls the batch back, like a crash would). `progress`: a stream for a tqdm bar.
    Raises ImportRefused when the file cannot be imported at all.
    """
    started = time.perf_counter()
    path = Path(path)
    layout, header_bytes = _read_header(path)
    size = path.stat().st_size
    fingerprint = file_fingerprint(path)
    with _ImportLock():
        job = RegistryImport.objects.filter(file_sha256=fingerprint).first()
        if job is not None and job.state == RegistryImport.State.DONE and not force:
            return _report(job, skipped=True)
        resumable = (
            job is not None
            and job.state == RegistryImport.State.LOADING
            and not force
            and _table_exists(STAGING_TABLE)
        )
        # Any other unfinished import loses the staging table now.
        others = RegistryImport.objects.filter(state=RegistryImport.State.LOADING)
        if job is not None:
            others = others.exclude(pk=job.pk)
        others.update(state=RegistryImport.State.ABANDONED)
        if job is None or not resumable:
            job = job or RegistryImport(file_sha256=fingerprint)
            job.file_name = path.name[:255]
            job.file_size = size
            job.state = RegistryImport.State.LOADING
            job.bytes_done = header_bytes
            job.rows_done = job.rows_bad = job.rows_duplicate = 0
            job.bad_reasons = {}
            job.key_salt = new_salt().hex()
            job.started_at = timezone.now()
            job.finished_at = None
            job.save()
            _staging_create()
        resumed_from = job.bytes_done if resumable else 0
        sealer = sealer_new(salt=bytes.fromhex(job.key_salt))
        phases: dict[str, float] = {}
        mark = time.perf_counter()
        rows_read = _load(
            job=job,
            path=path,
            layout=layout,
            sealer=sealer,
            workers=workers,
            batch_bytes=batch_bytes,
            piece_bytes=min(piece_bytes, batch_bytes),
            max_batches=max_batches,
            on_batch=on_batch,
            progress=progress,
        )
        phases["load"] = time.perf_counter() - mark
        if job.bytes_done >= size:
            (_swap_postgres if _is_postgres() else _swap_sqlite)(job, phases)
            log.info("vehicle registry mirror replaced from %s", path.name)
    report = _report(job, resumed_from=resumed_from)
    report.rows_this_run = rows_read
    report.phases = phases
    report.seconds = time.perf_counter() - started
    return report


def _load(
    *,
    job: RegistryImport,
    path: Path,
    layout: _Layout,
    sealer: Sealer,
    workers: int,
    batch_bytes: int,
    piece_bytes: int,
    max_batches: int | None,
    on_batch: Callable[[RegistryImport], None] | None,
    progress: IO[str] | None,
) -> int:
    """Stream the rest of the file into the staging table, batch by batch. Returns the
    rows read (good and bad) by this run."""
    as_copy = _is_postgres()
    jobs = (
        (end, data, layout, sealer, as_copy)
        for end, data in _pieces(path, job.bytes_done, piece_bytes)
    )
    pool = multiprocessing.get_context("fork").Pool(workers) if workers > 0 else None
    bar = None
    if progress is not None:
        done = job.rows_done + job.rows_bad
        # Rows are estimated from the average line length of what is done (or 48 bytes).
        per_row = (job.bytes_done / done) if done else 48.0
        bar = tqdm(
            total=done + int((job.file_size - job.bytes_done) / per_row),
            initial=done,
            unit="rows",
            unit_scale=True,
            file=progress,
            mininterval=1.0,
            desc=path.name,
        )
    try:
        prepared = (
            _ordered(pool, jobs, ahead=4 * workers) if pool is not None else map(_prepare, jobs)
        )
        rows_read = 0
        batches = 0
        nxt = next(prepared, None)
        while nxt is not None:
            if max_batches is not None and batches >= max_batches:
                break
            read, nxt = _batch(job, nxt, prepared, batch_bytes, on_batch, bar)
            rows_read += read
            batches += 1
        return rows_read
    finally:
        if bar is not None:
            bar.close()
        if pool is not None:
            pool.terminate()
            pool.join()


def _ordered(pool: Any, jobs: Iterator[Any], *, ahead: int) -> Iterator[_Piece]:
    """Results in file order (offsets are committed in order, whatever finished first),
    with at most `ahead` pieces in flight: the file is never read faster than it is
    written, so memory stays a few MiB whatever the file's size."""
    in_flight: deque[Any] = deque()
    for job in jobs:
        in_flight.append(pool.apply_async(_prepare, (job,)))
        if len(in_flight) >= ahead:
            yield in_flight.popleft().get()
    while in_flight:
        yield in_flight.popleft().get()


def _batch(
    job: RegistryImport,
    first: _Piece,
    rest: Iterator[_Piece],
    batch_bytes: int,
    on_batch: Callable[[RegistryImport], None] | None,
    bar: Any,
) -> tuple[int, _Piece | None]:
    """Write pieces until `batch_bytes` of the file are covered, and the progress they
    reach, in one transaction. Returns (rows read, the next piece or None at the end)."""
    before = (job.bytes_done, job.rows_done, job.rows_bad, dict(job.bad_reasons))
    start = job.bytes_done
    bad: Counter[str] = Counter(job.bad_reasons)
    rows = good = 0
    piece: _Piece | None = first
    try:
        with transaction.atomic():
            with _staging_writer() as write:
                while piece is not None:
                    write(piece)
                    rows += piece.rows
                    good += piece.good
                    bad.update(piece.bad)
                    job.bytes_done = piece.end
                    piece = next(rest, None)
                    if job.bytes_done - start >= batch_bytes:
                        break
            job.rows_done += good
            job.bad_reasons = dict(bad)
            job.rows_bad = sum(bad.values())
            job.save(update_fields=["bytes_done", "rows_done", "rows_bad", "bad_reasons"])
            if on_batch is not None:
                on_batch(job)
    except BaseException:
        # The row in memory must say what the database says, for whoever looks next.
        job.bytes_done, job.rows_done, job.rows_bad, job.bad_reasons = before
        raise
    if bar is not None:
        bar.update(rows)
    return rows, piece


def _report(job: RegistryImport, *, skipped: bool = False, resumed_from: int = 0) -> ImportReport:
    return ImportReport(
        file_name=job.file_name,
        state=job.state,
        skipped=skipped,
        resumed_from_bytes=resumed_from,
        rows_loaded=job.rows_done - job.rows_duplicate,
        rows_bad=job.rows_bad,
        bad_reasons=dict(job.bad_reasons),
        rows_duplicate=job.rows_duplicate,
    )


# --------------------------------------------------------------------------- the read


@dataclass(frozen=True)
class MirrorOwner:
    plate: str
    plate_kind: str
    name: str
    phone: str


def mirror_owners(*, plate: str) -> list[MirrorOwner]:
    """The mirror's vehicles with this (normalised) plate, one per kind, owners opened.

    One indexed read (the unique index's leading column) and one AES-GCM open per row."""
    # Raw SQL: the ORM's query building costs more than the indexed read itself.
    with connection.cursor() as cur:
        cur.execute(_LOOKUP_SQL, [plate])
        rows = cur.fetchall()
    owners = []
    for kind, token in rows:
        name, phone = owner_open(plate=plate, kind=kind, token=token)
        owners.append(MirrorOwner(plate=plate, plate_kind=kind, name=name, phone=phone))
    return owners


def mirror_size() -> int:
    """Rows in the mirror (an estimate on PostgreSQL: exact counts of 20M rows are slow)."""
    if _is_postgres():
        with connection.cursor() as cur:
            cur.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [LIVE_TABLE])
            row = cur.fetchone()
            if row and row[0] >= 0:
                return int(row[0])
    return VehicleRecord.objects.count()


__all__ = [
    "ImportRefused",
    "ImportReport",
    "MirrorOwner",
    "file_fingerprint",
    "mirror_owners",
    "mirror_size",
    "registry_import",
]


def mirror_records_put(*, records: Sequence[tuple[str, str, str, str]]) -> int:
    """Put a few vehicles into the mirror (the demo's cars; a correction between two full
    exports), sealed as the import seals them: `(hphm, hpzl, syr, sjhm)` rows. A row for the
    same plate and kind is replaced. Returns how many rows were written."""
    sealer = sealer_new(salt=new_salt())
    written = 0
    with transaction.atomic():
        for hphm, hpzl, name, phone in records:
            plate = plate_spelling(hphm)
            VehicleRecord.objects.update_or_create(
                plate=plate,
                plate_kind=hpzl,
                defaults={
                    "owner_sealed": sealer.seal(plate=plate, kind=hpzl, name=name, phone=phone)
                },
            )
            written += 1
    return written
