"""The one rule for a mainland China mobile number, used wherever a number comes in (a
citizen's form, the API, the SMS code) and where one goes out (the SMS gateway).

It lives here, in the lowest layer, so core and the SMS adapter apply the same rule: a
number accepted at the form is never refused by the gateway for its shape.
"""

from __future__ import annotations

import re
import unicodedata

# 11 digits, 1 then 3-9: the mobile number segments MIIT assigns (13x-19x); 10x-12x are
# not mobile numbers. Aliyun SMS takes the same shape.
MAINLAND_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
# What people and systems put in a number: spaces, hyphens, brackets, dots.
_FILLERS = re.compile(r"[\s\-().]")
# A country code in front ("+86", "0086", "86") is dropped when 11 digits follow.
_COUNTRY_PREFIXES = ("+86", "0086", "86")


def mainland_mobile(value: object) -> str | None:
    """`value` as an 11-digit mainland mobile number ("13812345678"), or None when it is
    not one. Accepts full-width digits, spaces, hyphens and brackets, and a +86/0086/86
    prefix; never raises."""
    text = _FILLERS.sub("", unicodedata.normalize("NFKC", str(value or "")))
    for prefix in _COUNTRY_PREFIXES:
        if text.startswith(prefix) and len(text) == len(prefix) + 11:
            text = text[len(prefix) :]
            break
    return text if MAINLAND_MOBILE.match(text) else None
