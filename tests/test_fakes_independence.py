"""The loopback fakes check signatures with their own code, never with our clients'.

A fake that verified with the client's own signing function would accept whatever the client
produced, bugs included: a wrong canonical string would pass every test and fail only
against the real provider. So each fake re-implements its provider's published rule, and
this test keeps it that way by reading the fakes' imports.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FAKES = [
    "civicloop/notify/fakes.py",
    "civicloop/firelane/payments/fake.py",
    "civicloop/firelane/vehicles/fake.py",
]
# Client modules whose signing a fake must not borrow. A fake may still take plain data
# from them (amount conversion, answer codes, record types), never anything that signs,
# verifies, builds a canonical string or loads keys.
CLIENTS = {
    "civicloop.notify.sms",
    "civicloop.notify.dingtalk",
    "civicloop.notify.webhook",
    "civicloop.firelane.payments.provider",
    "civicloop.firelane.vehicles.client",
}
SIGNING_NAME = re.compile(r"sign|verif|canonical|hmac|rsa|key|digest|header", re.IGNORECASE)
# The registry's answer codes are data (CODE_BAD_SIGNATURE is a number, not a signer).
ANSWER_CODE = re.compile(r"^CODE_[A-Z_]+$")


def is_signing(qualified: str) -> bool:
    name = qualified.rsplit(".", 1)[1]
    return bool(SIGNING_NAME.search(name)) and not ANSWER_CODE.match(name)


def imported_from_clients(path: Path) -> list[str]:
    """Every `module.name` a file imports from a client module (whole modules as `module`)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name in CLIENTS]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                as_module = f"{node.module}.{alias.name}"
                if as_module in CLIENTS:
                    found.append(as_module)  # `from civicloop.notify import webhook`
                elif node.module in CLIENTS:
                    found.append(as_module)
    return found


@pytest.mark.parametrize("fake", FAKES)
def test_fake_imports_no_signing_code_from_a_client(fake: str) -> None:
    # Given a fake's source, when its imports from client modules are listed,
    imported = imported_from_clients(ROOT / fake)
    # then none is a whole client module or anything to do with signing.
    borrowed = [name for name in imported if name in CLIENTS or is_signing(name)]
    assert borrowed == [], f"{fake} borrows the client's signing code: {borrowed}"


def test_the_check_sees_a_borrowed_signing_function(tmp_path: Path) -> None:
    # Given a file that borrows the way the fakes once did, the check reports it.
    source = tmp_path / "fake.py"
    source.write_text(
        "from civicloop.notify import webhook\n"
        "from civicloop.firelane.vehicles.client import CODE_OK, canonical_string\n",
        encoding="utf-8",
    )
    imported = imported_from_clients(source)
    assert imported == [
        "civicloop.notify.webhook",
        "civicloop.firelane.vehicles.client.CODE_OK",
        "civicloop.firelane.vehicles.client.canonical_string",
    ]
    assert [name for name in imported if name in CLIENTS or is_signing(name)] == [
        "civicloop.notify.webhook",
        "civicloop.firelane.vehicles.client.canonical_string",
    ]
