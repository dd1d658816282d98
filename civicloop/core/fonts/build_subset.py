"""How `NotoSansSC-Subset.otf` was made (a one-off developer step, not run by the product).

Takes Noto Sans CJK SC Regular from Debian's fonts-noto-cjk package and keeps ASCII,
Latin-1, general and CJK punctuation, full-width forms and every hanzi of GB 2312
(levels 1 and 2, 6,763 characters), so any deputy's name and any caption renders.
Needs fontTools (`pip install fonttools`); run: python civicloop/core/fonts/build_subset.py
"""

from __future__ import annotations

from pathlib import Path

SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SOURCE_INDEX = 2  # "Noto Sans CJK SC" inside the collection
TARGET = Path(__file__).resolve().parent / "NotoSansSC-Subset.otf"


def gb2312_hanzi() -> list[str]:
    """Every character of GB 2312 rows 16-87 (level-1 and level-2 hanzi)."""
    chars = []
    for row in range(0xB0, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                chars.append(bytes([row, cell]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def gb2312_symbols() -> list[str]:
    """GB 2312 rows 1-9: punctuation, full-width forms, numerals, kana, Greek, Cyrillic."""
    chars = []
    for row in range(0xA1, 0xAA):
        for cell in range(0xA1, 0xFF):
            try:
                chars.append(bytes([row, cell]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def codepoints() -> set[int]:
    points = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))
    points |= set(range(0x2000, 0x2070))  # general punctuation (… — “ ” ·)
    points |= set(range(0x3000, 0x3040))  # CJK symbols and punctuation
    points |= set(range(0xFF00, 0xFFF0))  # half- and full-width forms
    points |= {0x00B7, 0x2022, 0x25CF, 0x2116}
    points |= {ord(c) for c in gb2312_hanzi() + gb2312_symbols()}
    return points


def main() -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(SOURCE, fontNumber=SOURCE_INDEX)
    options = subset.Options()
    options.hinting = False
    options.desubroutinize = False
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.layout_features = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=sorted(codepoints()))
    subsetter.subset(font)
    font.save(TARGET)
    print(f"{TARGET.name}: {TARGET.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
