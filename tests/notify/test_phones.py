"""The one mainland mobile number rule (notify/phones.py), as the form, the API and the SMS
gateway apply it."""

from __future__ import annotations

import pytest

from civicloop.core.accounts.errors import AccountError
from civicloop.core.accounts.services import check_mainland_mobile
from civicloop.notify.errors import PermanentDeliveryError
from civicloop.notify.phones import mainland_mobile
from civicloop.notify.sms import normalize_phone


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("13812345678", "13812345678"),
        (" 138-1234-5678 ", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits from a Chinese IME
        ("19912345678", "19912345678"),
        ("12345678901", None),  # 12x is not a mobile segment
        ("1381234567", None),
        ("138123456789", None),
        ("+8513812345678", None),
        ("", None),
        (None, None),
    ],
)
def test_one_rule_everywhere(text: str | None, number: str | None) -> None:
    # Given a number as people and systems write it
    # Then the one rule, the citizen-facing check and the SMS adapter agree on it
    assert mainland_mobile(text) == number
    if number is None:
        with pytest.raises(AccountError):
            check_mainland_mobile(text or "")
        with pytest.raises(PermanentDeliveryError):
            normalize_phone(text)
    else:
        assert check_mainland_mobile(text or "") == number == normalize_phone(text)
