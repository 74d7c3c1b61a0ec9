"""The `q` of a case list (cases/search.py): two-character Chinese words, longer text, case
numbers by prefix, text taken literally, the bigram index and Python in step."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from tortoise.connection import get_connection

from cases.const import CaseStatus, Source
from cases.models import Case
from cases.search import bigrams, number_chars
from tests.cases.helpers import City, history

PG = bool(os.environ.get("CITYLOOP_TEST_DATABASE_URL"))


async def _found(city: City, q: str, who: str = "acceptor", **params: Any) -> list[int]:
    status, page = await city.get("/api/v1/cases", who, q=q, page_size=200, **params)
    assert status == 200, page
    return sorted(c["id"] for c in page["items"])


_PLACES = iter(range(10_000))


async def _case(city: City, text: str, address: str = "") -> int:
    """A citizen's report, each in a place of its own (so none is merged into another)."""
    n = next(_PLACES)
    where = await city.point(1 + n % 4, number=1 + n // 4 % 4, east_m=50.0 * (n // 16 % 4))
    status, out = await city.report(await city.citizen(f"p{n}"), where, text, address=address)
    assert status == 201, out
    assert not out["merged"], out
    return int(out["case"]["id"])


async def test_words_of_two_characters_and_longer_text_are_found(city: City) -> None:
    bin_full = await _case(city, "小区门口垃圾桶满了", address="延安路12号")
    heap = await _case(city, "路边垃圾成堆，旁边的桶也倒了", address="解放路3号")
    cover = await _case(city, "人行道井盖缺失", address="中山路120号")
    shop = await _case(city, "KFC门口占道经营")
    assert await _found(city, "垃圾") == sorted([bin_full, heap])
    assert await _found(city, "垃圾桶") == [bin_full]  # the characters in a row, not apart
    assert await _found(city, "井盖") == [cover]
    assert await _found(city, "12号") == [bin_full]  # in the address; 120号 is not 12号
    assert await _found(city, "门") == sorted([bin_full, shop])  # one character: a scan
    assert await _found(city, "kfc") == [shop]  # Latin letters in either case
    assert await _found(city, "延安路") == [bin_full]
    assert await _found(city, "垃圾车") == []


async def test_search_text_is_taken_literally(city: City) -> None:
    odd = await _case(city, "含有'引号'与\\反斜杠，完成100%，编号a_b：x & y | !z")
    plain = await _case(city, "普通描述ab，没有特殊字符")
    for q in ("'引号'", "\\", "100%", "a_b", "x & y", "| !z", "：x"):
        assert await _found(city, q) == [odd], q
    assert await _found(city, "%") == [odd]
    assert await _found(city, "_") == [odd]
    assert await _found(city, "ab") == [plain]  # a_b does not match "ab": _ is no wildcard
    for q in ("E'", '\'; DROP TABLE "case"; --', "\\'", "''", "&", "!", "<->"):
        status, _ = await city.get("/api/v1/cases", "acceptor", q=q)
        assert status == 200, q
    assert await Case.filter(id__in=[odd, plain]).count() == 2
    status, err = await city.get("/api/v1/cases", "acceptor", q="a\x00b")
    assert status == 422, err


async def test_case_numbers_match_by_prefix(city: City) -> None:
    case = await _case(city, "路灯不亮")
    number = (await Case.get(id=case)).number
    assert number is not None
    assert case in await _found(city, number[:8])
    assert await _found(city, number) == [case]
    assert case not in await _found(city, number[2:])  # the middle of a number is not searched


def test_what_a_case_number_can_hold_follows_its_format() -> None:
    chars = number_chars("杭城管{date:%Y%m%d}{id:06d}", "330100")
    assert {"杭", "城", "管", "0", "9"} <= chars
    assert "垃" not in chars
    assert "月" in number_chars("{date:%Y年%m月}{id}", "330100")
    assert number_chars("{city}-{id}", "33A100") >= {"-", "A"}


async def test_the_bigram_index_and_python_agree(db: None) -> None:
    """cases/search.py builds the query side of the index that migration cases/0005 defines
    in SQL: both must cut text into the same bigrams."""
    if not PG:
        pytest.skip("the bigram index is PostgreSQL's: set CITYLOOP_TEST_DATABASE_URL")
    texts = ["小区门口 垃圾桶满了", "KFC门口", "a", "", "含'引号'\\与%_", "Ünïcode ÄB", "12号\t楼"]
    connection = get_connection("default")
    for text in texts:
        rows = await connection.execute_query_dict(
            "SELECT tsvector_to_array(cityloop_bigrams($1)) AS grams", [text]
        )
        assert sorted(rows[0]["grams"]) == sorted(bigrams(text)), text


async def test_a_common_word_lists_the_newest_cases_first(city: City) -> None:
    """More than 10,000 matches: the list is read without the index, newest first, and the
    next page follows on."""
    older = await history(10_020, text="暴露垃圾")
    newest = await _case(city, "门口有垃圾")
    status, page = await city.get("/api/v1/cases", "acceptor", q="垃圾", page_size=20)
    assert status == 200, page
    assert [c["id"] for c in page["items"]] == [newest, *older[::-1][:19]]
    assert page["total"] > 10_000
    assert page["total_exact"] is (not PG)
    _, more = await city.get(
        "/api/v1/cases", "acceptor", q="垃圾", page_size=20, cursor=page["next_cursor"]
    )
    assert [c["id"] for c in more["items"]] == older[::-1][19:39]


async def test_a_common_phrase_is_read_newest_first_and_its_total_estimated(city: City) -> None:
    """PostgreSQL takes a phrase's bigrams for independent and guesses a handful of rows for
    小区门口垃圾满溢; one case in ten holds it here. Among the newest 10,000 cases so many hold it
    that the list is read along its order, and the total is scaled up from them (10,000 of
    25,000 sampled: about 2,500)."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    rows = [
        Case(
            source=Source.WEB,
            status=CaseStatus.CLOSED,
            description=("小区门口垃圾满溢" if i % 10 == 0 else "路灯不亮") + f"（{i}）",
            created_at=start + dt.timedelta(minutes=i),
        )
        for i in range(25_000)
    ]
    await Case.bulk_create(rows, batch_size=2000)
    if PG:  # what autovacuum does after a load like this one: the planner knows the table
        await get_connection("default").execute_script('ANALYZE "case"')
    status, page = await city.get("/api/v1/cases", "acceptor", q="小区门口垃圾满溢", page_size=20)
    assert status == 200, page
    shown = [c["description"] for c in page["items"]]
    assert shown == [f"小区门口垃圾满溢（{i}）" for i in range(24_990, 24_790, -10)]
    if PG:
        assert page["total_exact"] is False and 2_000 <= page["total"] <= 4_000
    else:
        assert (page["total"], page["total_exact"]) == (2_500, True)
    # A phrase few hold goes through the index and is counted exactly.
    status, rare = await city.get("/api/v1/cases", "acceptor", q="垃圾满溢（24990", page_size=20)
    assert (rare["total"], rare["total_exact"]) == (1, True), rare
