"""Chinese search through the n-gram index (PostgreSQL full text or SearchGram rows)."""

from __future__ import annotations

from typing import Any

import pytest

from civicloop.bulletins import search
from civicloop.bulletins.models import Item, SearchGram
from civicloop.bulletins.selectors import ItemFilters, items_for
from tests.bulletins.conftest import People

pytestmark = pytest.mark.django_db


def test_tokens_cut_chinese_into_bigrams_and_keep_latin_words() -> None:
    query = search.query_tokens("政府工作 GDP")
    assert len(query) == 4  # 政府 府工 工作 gdp
    assert query[-1] == "wgdp"
    stored = search.text_tokens("政府工作报告")
    assert all(token in stored for token in query[:3])
    assert search.query_tokens("税") == [search._encode("税")]
    assert search.query_tokens("  ，。 ") == []


def _titles(people: People, q: str, **filters: Any) -> list[str]:
    items = items_for(user=people.deputy, filters=ItemFilters(q=q, **filters))
    return [item.title for item in items]


def test_search_finds_items_containing_the_words_best_first(people: People, publish: Any) -> None:
    publish(title="2026年温岭市政府工作报告", body="回顾过去一年政府工作，部署今年任务。")
    publish(title="上半年预算执行情况", body="政府工作人员按预算执行。", category="budget")
    publish(title="老旧小区改造政策解读", body="改造内容清单和居民出资比例。", category="policy")
    publish(title="政府采购通知", body="关于工作安排的说明。", category="notice")

    found = _titles(people, "政府工作")

    # The two that contain 政府工作, the title match first; 政府…工作 apart is no match
    # for 府工.
    assert found == ["2026年温岭市政府工作报告", "上半年预算执行情况"]
    assert _titles(people, "老旧小区") == ["老旧小区改造政策解读"]
    assert _titles(people, "出资") == ["老旧小区改造政策解读"]
    assert _titles(people, "票决") == []
    assert _titles(people, "政府工作", category="budget") == ["上半年预算执行情况"]


def test_search_matches_tags_and_single_characters(people: People, publish: Any) -> None:
    publish(title="医保待遇调整", body="住院报销比例提高。", tags="医保 民生", category="policy")
    assert _titles(people, "民生") == ["医保待遇调整"]
    assert _titles(people, "保") == ["医保待遇调整"]


def test_withdrawn_items_are_not_found(people: People, publish: Any) -> None:
    item = publish(title="政府工作报告")
    Item.objects.filter(pk=item.pk).update(is_withdrawn=True)
    assert _titles(people, "政府工作") == []


def test_the_index_is_the_database_s_own(people: People, publish: Any) -> None:
    from django.db import connection

    item = publish(title="政府工作报告")
    assert item.search_title  # the tokens are stored with the item
    if connection.vendor == "postgresql":
        # The GIN index exists and SearchGram is not used.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'bulletin_item_search_gin'"
            )
            (definition,) = cursor.fetchone()
        assert "gin" in definition.lower()
        assert not SearchGram.objects.exists()
        # The query's expression is the index's: with sequential scans off, the plan
        # uses the GIN index.
        found = search.items_search(Item.objects.all(), query="政府工作")
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            plan = found.explain()
        assert "bulletin_item_search_gin" in plan
        assert [i.pk for i in found] == [item.pk]
    else:
        assert SearchGram.objects.filter(item=item).count() > 5
        sql = str(search.items_search(Item.objects.all(), query="政府工作").query)
        assert "bulletins_searchgram" in sql and "LIKE" not in sql.upper()
