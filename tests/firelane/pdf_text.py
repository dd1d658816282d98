"""Read the text layer of a receipt PDF as a PDF reader extracts it: the strings shown
with `Tj` in the (uncompressed) content stream, mapped through the font's ToUnicode CMap,
which for these receipts is the identity on UCS-2 codes (checked, not assumed)."""

from __future__ import annotations

import re


def pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF-"), "not a PDF"
    assert b"/ToUnicode" in pdf and b"<4E00> <4EFF> <4E00>" in pdf, "no identity ToUnicode"
    rows = [
        bytes.fromhex(match[1].decode()).decode("utf-16-be")
        for match in re.finditer(rb"<([0-9A-F]*)> Tj", pdf)
    ]
    return "\n".join(rows)
