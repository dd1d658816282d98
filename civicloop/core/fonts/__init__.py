"""The CJK font every module draws Chinese with (posters, receipts): a subset of Noto Sans
CJK SC (SIL OFL, see OFL.txt; how it was made: build_subset.py), shipped so the product
renders Chinese without any system font."""

from pathlib import Path

CJK_FONT = Path(__file__).resolve().parent / "NotoSansSC-Subset.otf"
