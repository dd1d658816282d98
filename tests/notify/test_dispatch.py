"""The public interface: deliver() and KINDS."""

from __future__ import annotations

from typing import Any

import pytest

import civicloop.notify as notify
from civicloop.notify import KINDS, PermanentDeliveryError, deliver


def test_public_interface() -> None:
    assert KINDS == ("sms", "dingtalk_robot", "dingtalk_work", "webhook")
    assert notify.deliver is deliver


def test_unknown_kind_is_permanent() -> None:
    with pytest.raises(PermanentDeliveryError, match="unknown"):
        deliver("fax", {}, idempotency_key="k")


def test_empty_key_or_non_object_payload_is_permanent(settings: Any) -> None:
    settings.SMS_BACKEND = "console"
    with pytest.raises(PermanentDeliveryError):
        deliver("sms", {"phone": "13812345678"}, idempotency_key="")
    with pytest.raises(PermanentDeliveryError):
        deliver("sms", ["13812345678"], idempotency_key="k")  # type: ignore[arg-type]


def test_every_kind_works_with_console_backends(settings: Any) -> None:
    settings.SMS_BACKEND = "console"
    settings.DINGTALK_BACKEND = "console"
    payloads = {
        "sms": {"phone": "13812345678", "template": "case_received", "params": {"number": "A1"}},
        "dingtalk_robot": {"title": "t", "text": "x"},
        "dingtalk_work": {"userids": ["u"], "title": "t", "text": "x"},
    }
    for kind, payload in payloads.items():
        assert deliver(kind, payload, idempotency_key=f"k-{kind}")


def test_package_imports_nothing_else_of_civicloop() -> None:
    import ast
    from pathlib import Path

    package = Path(notify.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith("civicloop.") or name.startswith("civicloop.notify"), (
                    f"{path.name} imports {name}"
                )
