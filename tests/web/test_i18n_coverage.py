"""Every Chinese text has its English: the .po catalogues are complete and compiled, and the
生命通道 pages an officer uses come out in English when English is asked for.

A string added to the source without a translation fails here after `makemessages`, with
its msgid listed; run (from the project root)

    .venv/bin/python manage.py makemessages -l en --no-obsolete \
        --ignore 'node_modules/*' --ignore 'build/*' --ignore 'test-artifacts/*' \
        --ignore 'var/*' --ignore 'tests/*' --ignore 'bench/*'
    cd civicloop && ../.venv/bin/python ../manage.py compilemessages -v0

and fill in the new msgstr (and drop the `#, fuzzy` flags) in between."""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from civicloop.core.accounts.models import User
from civicloop.core.areas.models import Area
from civicloop.core.units.models import Unit
from civicloop.firelane.models import Camera, Lane, Site

# Uses the firelane module's channel, units or pages: collected only when it is enabled.
pytestmark = pytest.mark.needs_modules("firelane")


PACKAGE = Path(__file__).resolve().parents[2] / "civicloop"
CATALOGUES = sorted(PACKAGE.glob("**/locale/en/LC_MESSAGES/*.po"))
MAIN_CATALOGUE = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "django.po"

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
# Python %-format placeholders (%(name)s, %s, %d ...); "%%" is a literal percent sign.
PYTHON_FORMAT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
# str.format placeholders ({n}), filled by the page's script for python-brace-format entries.
BRACE_FORMAT = re.compile(r"\{\w*\}")


@dataclass
class PoEntry:
    line: int
    msgid: str = ""
    msgid_plural: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False


def _unquote(literal: str) -> str:
    body = literal.strip()
    assert body.startswith('"') and body.endswith('"'), literal
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), body[1:-1])


def po_entries(path: Path) -> list[PoEntry]:
    """The entries of a .po file (the header excluded), by a small parser: polib is not a
    dependency, and the files come from xgettext/msgmerge, whose layout is regular."""
    entries: list[PoEntry] = []
    entry: PoEntry | None = None
    keyword = ""
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            entry = None
            continue
        if entry is None:
            entry = PoEntry(line=number)
            entries.append(entry)
        if line.startswith("#~"):
            entry.obsolete = True
            continue
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")$", line)
        if match:
            keyword, literal = match.group(1), _unquote(match.group(2))
            if keyword == "msgid":
                entry.msgid = literal
            elif keyword == "msgid_plural":
                entry.msgid_plural = literal
            elif keyword.startswith("msgstr"):
                entry.msgstrs.append(literal)
        elif line.startswith('"'):
            literal = _unquote(line)
            if keyword == "msgid":
                entry.msgid += literal
            elif keyword == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + literal
            elif keyword.startswith("msgstr"):
                entry.msgstrs[-1] += literal
        else:
            raise AssertionError(f"{path}:{number}: cannot read {raw!r}")
    return [e for e in entries if not e.obsolete and (e.msgid or e.msgid_plural)]


def _where(path: Path, entries: list[PoEntry]) -> str:
    rel = path.relative_to(PACKAGE.parent) if path.is_relative_to(PACKAGE.parent) else path
    return "\n".join(f"  {rel}:{e.line}: {e.msgid!r}" for e in entries)


# --- the catalogues ----------------------------------------------------------------------


def test_the_catalogues_are_found_and_parsed() -> None:
    # Given the main catalogue, when it is parsed, then it holds the shell's and the
    # modules' strings (a parser that silently read nothing would pass every check below).
    assert MAIN_CATALOGUE in CATALOGUES
    msgids = {e.msgid for e in po_entries(MAIN_CATALOGUE)}
    assert len(msgids) > 500
    assert {"工作台", "生命通道", "执法审核", "告知单", "陈述申辩"} <= msgids


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_message_has_an_english_translation(path: Path) -> None:
    untranslated = [e for e in po_entries(path) if not all(e.msgstrs) or not e.msgstrs]
    assert not untranslated, (
        f"{len(untranslated)} message(s) without English; fill in their msgstr:\n"
        + _where(path, untranslated)
    )


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_translation_is_left_fuzzy(path: Path) -> None:
    # msgmerge guesses a translation from a similar old msgid and marks it fuzzy; Django
    # never shows fuzzy entries, so the page stays Chinese until someone checks the guess.
    fuzzy = [e for e in po_entries(path) if "fuzzy" in e.flags]
    assert not fuzzy, (
        f"{len(fuzzy)} fuzzy translation(s); check each, fix it and remove '#, fuzzy':\n"
        + _where(path, fuzzy)
    )


def _placeholders(text: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """Named placeholders as a set (English may use one twice or once), unnamed ones in
    order (they are filled by position)."""
    found = PYTHON_FORMAT.findall(text)
    return frozenset(p for p in found if p.startswith("%(")), tuple(
        p for p in found if not p.startswith("%(")
    )


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_translations_keep_the_placeholders(path: Path) -> None:
    # A dropped %(name)s loses a value on the English page; an unknown one is a KeyError.
    wrong = []
    for entry in po_entries(path):
        if not entry.flags & {"python-format", "python-brace-format"}:
            continue
        named, unnamed = _placeholders(entry.msgid)
        plural_named, _unnamed = _placeholders(entry.msgid_plural or "")
        for msgstr in entry.msgstrs:
            got_named, got_unnamed = _placeholders(msgstr)
            if entry.msgid_plural is None:
                ok = got_named == named and got_unnamed == unnamed
            else:  # a singular form may leave the count out ("one site"), never add one
                ok = got_named <= named | plural_named and len(got_unnamed) <= len(unnamed)
            if "python-brace-format" in entry.flags:
                ok = ok and set(BRACE_FORMAT.findall(msgstr)) == set(
                    BRACE_FORMAT.findall(entry.msgid)
                )
            if not ok:
                wrong.append(entry)
                break
    assert not wrong, "translations whose placeholders differ from the msgid:\n" + _where(
        path, wrong
    )


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_compiled_catalogue_matches_the_po_file(path: Path) -> None:
    # Django reads the .mo, not the .po: `make setup` (compilemessages) builds it.
    mo = path.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run compilemessages (make setup)"
    with mo.open("rb") as f:
        catalog = gettext.GNUTranslations(f)
    stale = []
    for entry in po_entries(path):
        if "fuzzy" in entry.flags or not all(entry.msgstrs):
            continue  # never compiled; the tests above report them
        if entry.msgid_plural is None:
            got = catalog.gettext(entry.msgid)
        else:
            got = catalog.ngettext(entry.msgid, entry.msgid_plural, 2)
        if got != entry.msgstrs[-1]:
            stale.append(entry)
    assert not stale, f"{mo.name} is older than the .po: run compilemessages\n" + _where(
        path, stale
    )


# --- the 生命通道 pages in English --------------------------------------------------------

REVIEW_URL = "/firelane/review/"
DASHBOARD_URL = "/firelane/dashboard/"

REVIEW_EN = (
    "Fire Lanes · Enforcement review",
    "Awaiting review",
    "Statements of defence to review",
    "Notices to post",
    "Plates to check manually",
    "Article 41 of the Administrative Penalty Law",
)
REVIEW_ZH = ("生命通道 · 执法审核", "待审核", "陈述申辩待复核", "车牌待人工核对", "行政处罚法")
DASHBOARD_EN = ("Fire-lane dashboard", "Cars on fire lanes now", "Cameras online", "Stays today")
DASHBOARD_ZH = ("生命通道运行看板", "当前占道车辆", "摄像机在线", "今日停留")


def _officer(client: Client) -> Client:
    client.force_login(User.objects.get(username="officer_fire"))
    return client


def _ui_chinese(html: str, user: User) -> list[str]:
    """The Chinese left on a page once the data (names of sites, cameras, lanes, units,
    areas, the user) and the "中文" language switch are taken out: untranslated UI text."""
    data = {"中文", user.masked_name}
    for model in (Site, Camera, Lane, Unit, Area):
        data.update(model.objects.values_list("name", flat=True))
    for name in sorted(data, key=len, reverse=True):
        html = html.replace(name, " ")
    return sorted(set(CJK.findall(html)))


@pytest.mark.django_db
def test_review_queue_is_chinese_by_default(client: Client, demo_city: None) -> None:
    # Given the officer, when no language is asked for, then the page is Chinese (so the
    # English checks below really tell the two apart).
    html = _officer(client).get(REVIEW_URL).content.decode()
    assert all(text in html for text in REVIEW_ZH)
    assert not any(text in html for text in REVIEW_EN)


@pytest.mark.django_db
def test_review_queue_in_english_by_accept_language(client: Client, demo_city: None) -> None:
    # Given the fire brigade's officer, when the browser asks for English,
    response = _officer(client).get(REVIEW_URL, HTTP_ACCEPT_LANGUAGE="en")
    # then the review queue, its headings and the top bar are in English.
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "en"
    html = response.content.decode()
    assert 'lang="en"' in html
    missing = [text for text in REVIEW_EN if text not in html]
    assert not missing, f"English headings missing: {missing}"
    assert ">Enforcement review<" in html and ">Fire Lanes<" in html  # the top bar links
    left = [text for text in REVIEW_ZH if text in html]
    assert not left, f"Chinese headings left: {left}"
    user = User.objects.get(username="officer_fire")
    assert _ui_chinese(html, user) == [], "untranslated text on the English review page"


@pytest.mark.django_db
def test_dashboard_in_english_by_the_language_switch(client: Client, demo_city: None) -> None:
    # Given the officer who switched the shell to English (the top bar's form posts to
    # set_language, which keeps the choice in the django_language cookie),
    client = _officer(client)
    switched = client.post(reverse("set_language"), {"language": "en", "next": DASHBOARD_URL})
    assert switched.status_code == 302
    assert client.cookies["django_language"].value == "en"
    # when the dashboard is opened with no Accept-Language at all,
    response = client.get(DASHBOARD_URL)
    # then it is in English.
    assert response.status_code == 200
    html = response.content.decode()
    missing = [text for text in DASHBOARD_EN if text not in html]
    assert not missing, f"English headings missing: {missing}"
    left = [text for text in DASHBOARD_ZH if text in html]
    assert not left, f"Chinese headings left: {left}"
    user = User.objects.get(username="officer_fire")
    assert _ui_chinese(html, user) == [], "untranslated text on the English dashboard"


@pytest.mark.django_db
def test_the_owners_link_page_in_english(client: Client, demo_city: None) -> None:
    # Given a car owner's browser in English, when the SMS link is broken,
    response = client.get("/n/not-a-real-token", HTTP_ACCEPT_LANGUAGE="en")
    # then the owner is told so in English.
    assert response.status_code == 404
    html = response.content.decode()
    assert "This link is invalid or has expired" in html
    assert "Wenling Fire and Rescue Brigade" in html
    assert "链接无效" not in html
