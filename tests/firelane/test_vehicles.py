"""The vehicle registry: mirror import (resume, exactly once, encryption at rest, atomic
replacement), `owner_lookup`, and the provincial client against the real loopback fake.

Runs on SQLite and, with DATABASE_URL=postgres://..., on PostgreSQL (COPY path)."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from civicloop.firelane.models import RegistryImport, VehicleRecord
from civicloop.firelane.vehicles import client as client_module
from civicloop.firelane.vehicles.client import (
    CODE_BAD_SIGNATURE,
    CODE_NONCE_REPLAYED,
    CODE_STALE_TIMESTAMP,
    HEADER_KEY,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    ProvincialClient,
    RegistryRefused,
    canonical_string,
    signature,
)
from civicloop.firelane.vehicles.crypto import SealBroken, owner_open
from civicloop.firelane.vehicles.fake import QUERY_PATH, FakeProvincialRegistry
from civicloop.firelane.vehicles.mirror import ImportRefused, registry_import
from civicloop.firelane.vehicles.services import (
    OwnerLookup,
    RegistryUnavailable,
    owner_lookup,
)

HEADER = "hphm,hpzl,syr,sjhm,clpp\n"
APP_KEY, SECRET = "wl-firelane", "s3cret-for-tests"


def good_rows(n: int, *, start: int = 0, name: str = "车主") -> list[str]:
    """n distinct valid rows: 浙J + 5 digits, kind 02, phone 139xxxxxxxx."""
    return [f"浙J{start + i:05d},02,{name}{i},139{start + i:08d},大众\n" for i in range(n)]


def write_export(path: Path, lines: list[str], *, extra: bytes = b"") -> Path:
    path.write_bytes((HEADER + "".join(lines)).encode("utf-8") + extra)
    return path


def mirror_count() -> int:
    return VehicleRecord.objects.count()


# --------------------------------------------------------------------------- import


@pytest.mark.django_db(transaction=True)
def test_import_loads_good_rows_and_counts_bad_ones(tmp_path: Path) -> None:
    # Given an export with good rows, every kind of bad row, a duplicate and an extra column
    lines = [
        *good_rows(50),
        "浙JD12345,52,李红,13800000002,比亚迪\n",
        "浙J00001,01,黄牌车主,13800000003,解放\n",  # same number, another kind: a second vehicle
        "浙J00002,02,新车主,13800000004,大众\n",  # duplicate plate+kind: the last row wins
        "苏A12345,02,外省,13800000005,x\n",  # not a Zhejiang plate
        "浙J1234,02,短号牌,13800000006,x\n",  # too short
        "浙J99999,2,坏种类,13800000007,x\n",  # kind is two digits
        "浙J77777,02,少一列\n",  # wrong column count
        "\n",  # blank line: not a row
        '浙J66666,02,"张,三",13800000008,丰田\n',  # quoted comma is one field
    ]
    path = write_export(tmp_path / "export.csv", lines, extra=b"\xff\xfe,02,x,y,z\n")

    # When it is imported
    report = registry_import(path=path, batch_bytes=700, piece_bytes=300)

    # Then good rows are in the mirror, bad ones counted per reason, the duplicate once
    assert report.state == "done"
    assert report.bad_reasons == {"plate": 2, "kind": 1, "columns": 1, "encoding": 1}
    assert report.rows_bad == 5
    assert report.rows_duplicate == 1
    assert report.rows_loaded == 50 + 3  # 50, 浙JD12345, 浙J00001 (01), 浙J66666; dup replaced
    assert mirror_count() == 53
    assert owner_lookup(plate="浙J00002", color="blue") == OwnerLookup(
        found=True, name="新车主", phone="13800000004", source="mirror"
    )
    assert owner_lookup(plate="浙J00001", color="yellow").name == "黄牌车主"
    assert owner_lookup(plate="浙J00001", color="blue").name == "车主1"
    assert owner_lookup(plate="浙jd12345").phone == "13800000002"  # normalised, kind from shape
    assert owner_lookup(plate="浙J66666").name == "张,三"
    assert owner_lookup(plate="浙J99998") == OwnerLookup(found=False, reason="not_found")
    # Two vehicles under one number and no colour: we do not guess who to text
    assert owner_lookup(plate="浙J00001").reason == "not_found"


@pytest.mark.django_db(transaction=True)
def test_owner_data_is_encrypted_at_rest(tmp_path: Path) -> None:
    # Given an imported export
    registry_import(path=write_export(tmp_path / "e.csv", good_rows(20, name="王小明")))

    # When the table is read with raw SQL
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM firelane_vehiclerecord")
        raw = json.dumps(cur.fetchall(), ensure_ascii=False, default=str)

    # Then no phone and no name appears in clear, and a sealed value is bound to its plate
    assert "1390000000" not in raw and "王小明" not in raw
    assert "浙J00003" in raw  # the plate is the (clear) lookup key
    row = VehicleRecord.objects.get(plate="浙J00003")
    assert owner_open(plate="浙J00003", kind="02", token=row.owner_sealed) == (
        "王小明3",
        "13900000003",
    )
    with pytest.raises(SealBroken):
        owner_open(plate="浙J00004", kind="02", token=row.owner_sealed)


@pytest.mark.django_db(transaction=True)
def test_lost_key_delays_lookups_instead_of_failing(tmp_path: Path, settings: Any) -> None:
    from cryptography.fernet import Fernet

    # Given a mirror imported under the configured key, which is then replaced
    registry_import(path=write_export(tmp_path / "e.csv", good_rows(3)))
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    # When a plate of the mirror is looked up
    # Then the caller is told to try later (its warning waits), not "not found"
    with pytest.raises(RegistryUnavailable, match="decrypted"):
        owner_lookup(plate="浙J00001", color="blue")


class Crash(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_interrupted_import_resumes_and_loads_every_row_exactly_once(tmp_path: Path) -> None:
    # Given a mirror from an earlier export, and a new export of 300 rows in ~10 batches
    registry_import(path=write_export(tmp_path / "old.csv", ["浙K11111,02,旧车主,13700000000,x\n"]))
    path = write_export(tmp_path / "new.csv", good_rows(300))
    small = {"batch_bytes": 1500, "piece_bytes": 500}

    # When the import stops after 2 batches (Ctrl-C between batches) ...
    first = registry_import(path=path, max_batches=2, **small)
    # ... then crashes inside its 2nd batch of the next run (before that batch commits)
    calls: list[int] = []

    def crash_on_second(job: RegistryImport) -> None:
        calls.append(job.rows_done)
        # The old mirror still answers while the new one loads.
        assert owner_lookup(plate="浙K11111").name == "旧车主"
        if len(calls) == 2:
            raise Crash

    with pytest.raises(Crash):
        registry_import(path=path, on_batch=crash_on_second, **small)
    progress = RegistryImport.objects.get(file_name="new.csv")

    # Then nothing of the new export is visible yet, progress is what was committed
    assert first.state == "loading" and 0 < first.rows_loaded < 300
    assert progress.state == "loading"
    assert progress.rows_done == calls[0]  # the crashed batch was rolled back
    assert owner_lookup(plate="浙K11111").found
    assert not owner_lookup(plate="浙J00000").found

    # When it is run again on the same file
    last = registry_import(path=path, **small)

    # Then it continued where it stopped and every row is there exactly once
    assert last.resumed_from_bytes == progress.bytes_done > 0
    assert last.rows_this_run < 300
    assert last.state == "done" and last.rows_loaded == 300
    assert last.rows_duplicate == 0 and last.rows_bad == 0
    assert mirror_count() == 300
    assert owner_lookup(plate="浙J00299").phone == "13900000299"
    assert owner_lookup(plate="浙K11111").reason == "not_found"  # replaced as a whole


@pytest.mark.django_db(transaction=True)
def test_a_finished_file_is_not_imported_twice(tmp_path: Path) -> None:
    # Given a file imported once
    path = write_export(tmp_path / "e.csv", good_rows(10))
    registry_import(path=path)
    VehicleRecord.objects.filter(plate="浙J00000").delete()  # a change we can see undone

    # When it is imported again
    again = registry_import(path=path)

    # Then nothing is done; with force it is loaded again
    assert again.skipped and again.rows_this_run == 0
    assert mirror_count() == 9
    assert RegistryImport.objects.count() == 1
    forced = registry_import(path=path, force=True)
    assert not forced.skipped and mirror_count() == 10


@pytest.mark.django_db(transaction=True)
def test_import_command_reports_and_refuses_a_bad_header(tmp_path: Path) -> None:
    # Given an export and a file without the registry's columns
    path = write_export(tmp_path / "e.csv", [*good_rows(5), "bad,row\n"])
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("plate,owner\n浙J00001,王\n", encoding="utf-8")

    # When the command runs on each
    out, err = io.StringIO(), io.StringIO()
    call_command("import_registry", str(path), "--workers", "1", stdout=out, stderr=err)
    with pytest.raises(CommandError, match="hpzl"):
        call_command("import_registry", str(wrong), stdout=io.StringIO())

    # Then it reports the counts, shows progress on stderr, and the bad file changed nothing
    assert "5 vehicles in the mirror, 1 bad rows skipped (columns 1)" in out.getvalue()
    assert "rows/s" in err.getvalue()
    assert mirror_count() == 5
    with pytest.raises(ImportRefused):
        registry_import(path=wrong)


# --------------------------------------------------------------------------- lookup


@pytest.fixture
def fake() -> Iterator[FakeProvincialRegistry]:
    with FakeProvincialRegistry(app_key=APP_KEY, secret=SECRET) as registry:
        registry.vehicle_add(hphm="浙J12345", hpzl="02", syr="王小明", sjhm="13800000001")
        registry.vehicle_add(hphm="浙JD54321", hpzl="52", syr="李红", sjhm="13800000002")
        yield registry


@pytest.fixture
def provincial(settings: Any, fake: FakeProvincialRegistry) -> FakeProvincialRegistry:
    """Settings pointing at the fake, with short timeouts and a small breaker."""
    settings.VEHICLE_REGISTRY_URL = fake.query_url
    settings.VEHICLE_REGISTRY_APP_KEY = APP_KEY
    settings.VEHICLE_REGISTRY_SECRET = SECRET
    settings.VEHICLE_REGISTRY_CONNECT_TIMEOUT = 0.5
    settings.VEHICLE_REGISTRY_READ_TIMEOUT = 0.3
    settings.VEHICLE_REGISTRY_RETRIES = 2
    settings.VEHICLE_REGISTRY_BACKOFF_SECONDS = 0.01
    settings.VEHICLE_REGISTRY_BREAKER_FAILURES = 3
    # Unique per test: each test gets a client (and a breaker) of its own.
    settings.VEHICLE_REGISTRY_BREAKER_RESET_SECONDS = 0.5 + fake.port / 1e9
    return fake


@pytest.mark.django_db
def test_other_province_is_answered_without_a_query(provincial: FakeProvincialRegistry) -> None:
    # When a plate from Jiangsu is looked up
    answer = owner_lookup(plate="苏A12345", color="blue")

    # Then the answer says so and the provincial registry was not asked
    assert answer == OwnerLookup(found=False, reason="other_province")
    assert provincial.requests == []


@pytest.mark.django_db
def test_mirror_miss_asks_the_provincial_registry(provincial: FakeProvincialRegistry) -> None:
    # Given an empty mirror
    # When plates are looked up
    found = owner_lookup(plate="浙J12345", color="blue")
    nev = owner_lookup(plate="浙JD54321", color="green")
    missing = owner_lookup(plate="浙J00000", color="blue")

    # Then the registry answered with signed requests carrying GA/T fields
    assert found == OwnerLookup(found=True, name="王小明", phone="13800000001", source="provincial")
    assert nev.name == "李红" and nev.source == "provincial"
    assert missing == OwnerLookup(found=False, reason="not_found")
    first = provincial.requests[0]
    assert first.json() == {"hphm": "浙J12345", "hpzl": "02"}
    assert provincial.requests[1].json() == {"hphm": "浙JD54321", "hpzl": "52"}
    assert first.headers[HEADER_KEY.lower()] == APP_KEY
    assert [status for status, _code in provincial.answered] == [200, 200, 200]


@pytest.mark.django_db(transaction=True)
def test_mirror_hit_needs_no_provincial_call_even_during_an_outage(
    tmp_path: Path, provincial: FakeProvincialRegistry
) -> None:
    # Given the plate in the mirror and the provincial registry down
    registry_import(path=write_export(tmp_path / "e.csv", ["浙J12345,02,镜像车主,13900000009,x\n"]))
    provincial.refuse_connections()

    # When it is looked up
    answer = owner_lookup(plate="浙J12345", color="blue")

    # Then the mirror answered
    assert answer == OwnerLookup(found=True, name="镜像车主", phone="13900000009", source="mirror")


@pytest.mark.django_db
def test_bad_secret_is_refused(settings: Any, provincial: FakeProvincialRegistry) -> None:
    # Given a wrong secret
    settings.VEHICLE_REGISTRY_SECRET = "not-the-secret"

    # When a plate is looked up, three times (the breaker's limit)
    for _ in range(3):
        with pytest.raises(RegistryRefused):
            owner_lookup(plate="浙J12345", color="blue")

    # Then each was refused for its signature, not retried, and did not open the breaker
    assert provincial.answered == [(401, CODE_BAD_SIGNATURE)] * 3
    with pytest.raises(RegistryRefused):
        owner_lookup(plate="浙J12345", color="blue")
    assert len(provincial.requests) == 4


def test_fake_refuses_stale_timestamps_and_replayed_nonces(fake: FakeProvincialRegistry) -> None:
    # Given a correctly signed request made 10 minutes ago, and a fresh one
    def signed(timestamp_ms: int, nonce: str) -> dict[str, str]:
        body = json.dumps({"hphm": "浙J12345"}, ensure_ascii=False).encode()
        canonical = canonical_string(
            method="POST",
            path=QUERY_PATH,
            app_key=APP_KEY,
            timestamp=str(timestamp_ms),
            nonce=nonce,
            body=body,
        )
        return {
            HEADER_KEY: APP_KEY,
            HEADER_TIMESTAMP: str(timestamp_ms),
            HEADER_NONCE: nonce,
            HEADER_SIGNATURE: signature(secret=SECRET, canonical=canonical),
        }

    body = json.dumps({"hphm": "浙J12345"}, ensure_ascii=False).encode()
    now = int(time.time() * 1000)

    # When they are sent (the fresh one twice)
    stale = requests.post(fake.query_url, data=body, headers=signed(now - 600_000, "a" * 32))
    fresh = signed(now, "b" * 32)
    ok = requests.post(fake.query_url, data=body, headers=fresh)
    replay = requests.post(fake.query_url, data=body, headers=fresh)

    # Then only the first sending of the fresh one is answered
    assert (stale.status_code, stale.json()["code"]) == (401, CODE_STALE_TIMESTAMP)
    assert ok.status_code == 200 and ok.json()["data"]["syr"] == "王小明"
    assert (replay.status_code, replay.json()["code"]) == (401, CODE_NONCE_REPLAYED)


@pytest.mark.django_db
def test_outage_raises_unavailable_after_retries(provincial: FakeProvincialRegistry) -> None:
    # Given the registry answering 503
    provincial.outage(503)

    # When a plate is looked up
    with pytest.raises(RegistryUnavailable):
        owner_lookup(plate="浙J12345", color="blue")

    # Then the client tried 1 + 2 retries
    assert len(provincial.requests) == 3

    # And a transient failure is absorbed by a retry
    provincial.restore()
    provincial.fail_next(1, 502)
    assert owner_lookup(plate="浙J12345", color="blue").source == "provincial"
    assert len(provincial.requests) == 3 + 2  # the injected 502, then its retry


@pytest.mark.django_db
def test_slow_registry_times_out_without_retry(provincial: FakeProvincialRegistry) -> None:
    # Given a registry slower than the read timeout (0.3 s)
    provincial.delay_seconds = 1.0

    # When a plate is looked up
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable, match="timeout"):
        owner_lookup(plate="浙J12345", color="blue")

    # Then it gave up after one timeout, not after three
    assert time.monotonic() - started < 0.9
    assert len(provincial.requests) == 1


@pytest.mark.django_db
def test_breaker_opens_on_outage_fails_fast_and_recovers(
    provincial: FakeProvincialRegistry,
) -> None:
    # Given the registry refusing connections
    provincial.refuse_connections()

    # When lookups fail up to the breaker's limit (3)
    for _ in range(3):
        with pytest.raises(RegistryUnavailable):
            owner_lookup(plate="浙J12345", color="blue")

    # Then the next one fails at once, without a connection attempt, even once it is back
    provincial.restore()
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable, match="circuit open"):
        owner_lookup(plate="浙J12345", color="blue")
    assert time.monotonic() - started < 0.05
    assert provincial.requests == []

    # And after the reset timeout a trial call goes through and closes it
    time.sleep(0.6)  # the breaker's 0.5 s reset timeout must pass: nothing to wait on
    assert owner_lookup(plate="浙J12345", color="blue").found
    assert owner_lookup(plate="浙J12345", color="blue").found


def test_client_without_settings_against_the_fake(fake: FakeProvincialRegistry) -> None:
    # Given a client built directly (as a task or a shell would)
    client = ProvincialClient(url=fake.query_url, app_key=APP_KEY, secret=SECRET)

    # When it asks for a plate without a kind, and for an unknown one
    vehicle = client.vehicle_query(hphm="浙JD54321")
    missing = client.vehicle_query(hphm="浙J00000", hpzl="02")

    # Then the registry's first kind answers; an unknown plate is None
    assert vehicle is not None and (vehicle.hpzl, vehicle.sjhm) == ("52", "13800000002")
    assert missing is None


# Our registry protocol (the spec in the civicloop/firelane/vehicles/client.py docstring)
# with one fixed example. The expected canonical string, body hash and signature were
# computed once, by hand, with Python's hashlib/hmac/base64, not with our code.
SPEC_URL = "https://gateway.example/api/v1/vehicle/query"
SPEC_APP_KEY, SPEC_SECRET = "demo-app-key", "demo-secret"
SPEC_TIMESTAMP = "1714521600000"
SPEC_NONCE = "0123456789abcdef0123456789abcdef"
SPEC_BODY = '{"hphm": "浙J12345", "hpzl": "02"}'.encode()
SPEC_BODY_SHA256 = "2b9620044575171ca2293cf5a3047d1268fcbe146f3265ed791787dfdae1a9f3"
SPEC_CANONICAL = (
    "POST\n/api/v1/vehicle/query\ndemo-app-key\n1714521600000\n"
    "0123456789abcdef0123456789abcdef\n" + SPEC_BODY_SHA256
)
SPEC_SIGNATURE = "aaVR0/IxeQ7bfcE6aIuDQqOSQB7wC/aEPebutCsiQVE="


def test_canonical_string_and_signature_match_the_spec_example() -> None:
    canonical = canonical_string(
        method="post",
        path="/api/v1/vehicle/query",
        app_key=SPEC_APP_KEY,
        timestamp=SPEC_TIMESTAMP,
        nonce=SPEC_NONCE,
        body=SPEC_BODY,
    )
    assert canonical == SPEC_CANONICAL
    assert signature(secret=SPEC_SECRET, canonical=canonical) == SPEC_SIGNATURE


def test_client_sends_the_spec_example_on_the_wire(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the client's clock and nonce fixed at the example's (its module's only),
    monkeypatch.setattr(
        client_module, "time", SimpleNamespace(time=lambda: int(SPEC_TIMESTAMP) / 1000)
    )
    monkeypatch.setattr(client_module, "secrets", SimpleNamespace(token_hex=lambda n: SPEC_NONCE))
    sent: list[tuple[str, bytes, dict[str, str]]] = []

    def post(url: str, *, data: bytes, headers: dict[str, str], timeout: Any) -> requests.Response:
        sent.append((url, data, headers))
        answer = requests.Response()
        answer.status_code = 200
        answer._content = json.dumps(
            {"code": "1001", "msg": "未查询到车辆信息", "data": None}
        ).encode()
        return answer

    client = ProvincialClient(url=SPEC_URL, app_key=SPEC_APP_KEY, secret=SPEC_SECRET)
    monkeypatch.setattr(client.session, "post", post)

    # When it asks for the example's plate and kind,
    assert client.vehicle_query(hphm="浙J12345", hpzl="02") is None

    # Then the body and the four headers are the example's.
    [(url, body, headers)] = sent
    assert (url, body) == (SPEC_URL, SPEC_BODY)
    assert headers["X-Ca-Key"] == SPEC_APP_KEY
    assert headers["X-Ca-Timestamp"] == SPEC_TIMESTAMP
    assert headers["X-Ca-Nonce"] == SPEC_NONCE
    assert headers["X-Ca-Signature"] == SPEC_SIGNATURE


def test_sealed_owner_survives_key_rotation(settings: Any) -> None:
    from cryptography.fernet import Fernet

    from civicloop.firelane.vehicles.crypto import new_salt, sealer_new

    # Given a value sealed under key A
    key_a, key_b = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [key_a]
    token = sealer_new(salt=new_salt()).seal(
        plate="浙J12345", kind="02", name="王小明", phone="13800000001"
    )

    # When key B becomes the newest, A kept for reading; then A removed
    settings.FIELD_ENCRYPTION_KEYS = [key_b, key_a]
    opened = owner_open(plate="浙J12345", kind="02", token=token)
    settings.FIELD_ENCRYPTION_KEYS = [key_b]

    # Then it opens while A is configured, and not after
    assert opened == ("王小明", "13800000001")
    with pytest.raises(SealBroken):
        owner_open(plate="浙J12345", kind="02", token=token)
