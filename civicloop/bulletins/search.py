"""Chinese search without `icontains` over every row: an n-gram index.

Text is cut into tokens: every run of CJK characters gives its characters (unigrams)
and its overlapping pairs (bigrams); every run of Latin letters or digits gives the
lower-cased word. A query is cut the same way, using bigrams for runs of two or more
characters, and an item matches when it holds every token of the query ("政府工作" →
政府 · 府工 · 工作). Matches are ranked by how often the tokens occur, a title
occurrence counting `TITLE_WEIGHT` times.

Tokens are stored ASCII-encoded (a CJK character as five hex digits), so the database's
own word parser and locale never decide how Chinese is split:

- PostgreSQL: `Item.search_title` / `search_body` hold the tokens, space-separated; a
  stored generated column `search_vector` = `setweight(to_tsvector('simple', title),
  'A') || setweight(..body.., 'B')` with a GIN index (migration 0002) answers
  `@@ to_tsquery('simple', 't1 & t2 ...')`, ranked by `ts_rank` on the stored vector.
- Other databases (SQLite): one `SearchGram` row per (token, item) with its weighted
  count, found through the (gram, item) unique index.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.expressions import RawSQL

from civicloop.bulletins.models import Item, SearchGram

TITLE_WEIGHT = 3
QUERY_MAX_CHARS = 50
QUERY_MAX_TOKENS = 24
# CJK unified ideographs (with extension A and the compatibility block) and kana/hangul
# are cut into n-grams; letters and digits of other scripts make words.
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")
_WORD = re.compile(r"[0-9a-z]+")

# The stored generated column (PostgreSQL, migration 0002) the GIN index is built on.
PG_VECTOR = '"bulletins_item"."search_vector"'


def _encode(chars: str) -> str:
    return "g" + "".join(f"{ord(c):05x}" for c in chars)


def _runs(text: str) -> tuple[list[str], list[str]]:
    """(CJK runs, Latin/digit words) of a text, normalised (NFKC, lower case)."""
    text = unicodedata.normalize("NFKC", text).lower()
    cjk = _CJK.findall(text)
    rest = _CJK.sub(" ", text)
    return cjk, _WORD.findall(rest)


def text_tokens(text: str) -> Counter[str]:
    """Every token of a stored text, with its count."""
    cjk, words = _runs(text)
    out: Counter[str] = Counter()
    for run in cjk:
        for i, char in enumerate(run):
            out[_encode(char)] += 1
            if i + 1 < len(run):
                out[_encode(run[i : i + 2])] += 1
    for word in words:
        out["w" + word[:30]] += 1
    return out


def query_tokens(query: str) -> list[str]:
    """The tokens an item must all hold to match `query` (deduplicated, in order)."""
    cjk, words = _runs(query[:QUERY_MAX_CHARS])
    tokens: list[str] = []
    for run in cjk:
        if len(run) == 1:
            tokens.append(_encode(run))
        else:
            tokens.extend(_encode(run[i : i + 2]) for i in range(len(run) - 1))
    tokens.extend("w" + word[:30] for word in words)
    return list(dict.fromkeys(tokens))[:QUERY_MAX_TOKENS]


def uses_fulltext() -> bool:
    return connection.vendor == "postgresql"


def item_index(item: Item) -> None:
    """Fill the item's search columns (and, off PostgreSQL, its SearchGram rows) from its
    title, summary, body and tags. Call inside the transaction that saves the text."""
    tags = " ".join(item.tags.values_list("name", flat=True)) if item.pk else ""
    title = text_tokens(item.title)
    body = text_tokens(" ".join((item.summary, item.body, tags)))
    item.search_title = " ".join(title.elements())
    item.search_body = " ".join(body.elements())
    Item.objects.filter(pk=item.pk).update(
        search_title=item.search_title, search_body=item.search_body
    )
    if uses_fulltext():
        return
    weights: Counter[str] = Counter()
    for token, count in title.items():
        weights[token] += count * TITLE_WEIGHT
    for token, count in body.items():
        weights[token] += count
    SearchGram.objects.filter(item=item).delete()
    SearchGram.objects.bulk_create(
        [SearchGram(item=item, gram=token, weight=weight) for token, weight in weights.items()]
    )


def items_search(items: QuerySet[Item], *, query: str) -> QuerySet[Item]:
    """`items` that hold every token of `query`, best first, annotated with `rank`.
    An empty query (nothing searchable in it) matches nothing."""
    tokens = query_tokens(query)
    if not tokens:
        return items.none()
    if uses_fulltext():
        tsquery = " & ".join(tokens)
        matched = items.annotate(
            # The SQL is constant; the tokens travel as a parameter.
            rank=RawSQL(  # noqa: S611
                f"ts_rank('{{0.1, 0.2, 0.4, 1.0}}', {PG_VECTOR}, to_tsquery('simple', %s))",
                (tsquery,),
                output_field=FloatField(),
            ),
            matched=RawSQL(  # noqa: S611
                f"{PG_VECTOR} @@ to_tsquery('simple', %s)", (tsquery,), output_field=BooleanField()
            ),
        ).filter(matched=True)
        return matched.order_by("-rank", "-published_at", "-id")
    matching = (
        SearchGram.objects.filter(gram__in=tokens)
        .values("item_id")
        .annotate(found=Count("gram"))
        .filter(found=len(tokens))
        .values("item_id")
    )
    score = (
        SearchGram.objects.filter(item=OuterRef("pk"), gram__in=tokens)
        .values("item_id")
        .annotate(score=Sum("weight"))
        .values("score")
    )
    return (
        items.filter(pk__in=Subquery(matching))
        .annotate(rank=Subquery(score, output_field=IntegerField()))
        .order_by(F("rank").desc(), "-published_at", "-id")
    )
