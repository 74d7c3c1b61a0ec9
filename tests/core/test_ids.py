"""Ids taken ahead (core/ids.py): new, never handed out twice, taken by the INSERT."""

from __future__ import annotations

import pytest
from tortoise import timezone
from tortoise.transactions import in_transaction

from core import ids, rows
from core.auth.models import Staff
from core.jobs.models import OutboxItem
from tests.core.test_rows import _item


async def test_allocated_ids_are_new_and_taken_by_the_insert(db: None) -> None:
    await OutboxItem.create(kind="test.rows", payload={}, available_at=timezone.now())
    async with in_transaction():
        got = await ids.allocate({OutboxItem: 2})
        first, second = got[OutboxItem]
        assert second == first + 1
        item = _item(1, id=second)
        await rows.insert([item])
    assert item.id == second
    later = await OutboxItem.create(kind="test.rows", payload={}, available_at=timezone.now())
    assert later.id > second  # the counter moved past what was handed out
    assert await OutboxItem.get(id=second)


async def test_the_first_id_of_an_empty_table(db: None) -> None:
    async with in_transaction():
        (first,) = (await ids.allocate({OutboxItem: 1}))[OutboxItem]
        await rows.insert([_item(1, id=first)])
    assert (await OutboxItem.create(kind="x", payload={}, available_at=timezone.now())).id > first


async def test_ids_of_several_tables_at_once_never_handed_out_twice(db: None) -> None:
    async with in_transaction():
        a = await ids.allocate({OutboxItem: 3, Staff: 1})
    async with in_transaction():
        b = await ids.allocate({OutboxItem: 2, Staff: 1})
    assert len(a[OutboxItem]) == 3 and a[OutboxItem] == sorted(a[OutboxItem])
    assert set(a[OutboxItem]).isdisjoint(b[OutboxItem]) and a[Staff] != b[Staff]
    assert min(b[OutboxItem]) > max(a[OutboxItem])


async def test_ids_set_aside_ahead_are_taken_without_colliding_or_coming_back(db: None) -> None:
    await ids.reserve({OutboxItem: 2})
    async with in_transaction():
        first = (await ids.allocate({OutboxItem: 2}))[OutboxItem]
    with pytest.raises(RuntimeError):
        async with in_transaction():
            lost = (await ids.allocate({OutboxItem: 1}))[OutboxItem]
            raise RuntimeError("the request failed")
    async with in_transaction():
        after = (await ids.allocate({OutboxItem: 1}))[OutboxItem]
    assert after[0] > lost[0] > first[1] > first[0]  # a rolled-back id is not handed out again
    # Another process taking ids meanwhile (a plain INSERT, say) gets none of the block's.
    other = await OutboxItem.create(kind="x", payload={}, available_at=timezone.now())
    assert other.id not in {*first, *lost, *after}
    async with in_transaction():
        await rows.insert([_item(n, id=i) for n, i in enumerate(after)])
    assert await OutboxItem.filter(id__in=after).count() == 1
