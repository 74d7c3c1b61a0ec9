"""Rows written by hand (core/rows.py): what the ORM reads back is what it would have written."""

from __future__ import annotations

import datetime as dt

import pytest
from tortoise import timezone
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import ids, rows
from core.auth.models import AccessToken, Staff
from core.jobs.models import OutboxItem, OutboxStatus
from core.org.models import Department, DepartmentKind


def _item(n: int, **kw: object) -> OutboxItem:
    return OutboxItem(
        kind="test.rows",
        payload={"n": n, "text": "井盖缺失", "nested": {"a": [1, 2]}},
        available_at=timezone.now() + dt.timedelta(minutes=n),
        dedupe_key=f"rows|{n}",
        **kw,
    )


async def test_many_rows_in_one_insert_read_back_as_the_orm_writes_them(db: None) -> None:
    mine = [_item(n) for n in range(5)]
    async with in_transaction():
        await rows.insert(mine)
    assert all(i.id for i in mine) and len({i.id for i in mine}) == 5
    assert [i.id for i in mine] == sorted(i.id for i in mine)  # in VALUES order
    back = {i.id: i for i in await OutboxItem.filter(kind="test.rows")}
    for item in mine:
        got = back[item.id]
        assert got.payload == item.payload
        assert got.available_at == item.available_at
        assert got.status == OutboxStatus.PENDING and got.attempts == 0
        assert got.created_at is not None and got.created_at.tzinfo is not None
        assert got.dedupe_key == item.dedupe_key
    # The ORM's own row beside them is indistinguishable in kind.
    orm = await OutboxItem.create(kind="test.rows", payload={"n": 9}, available_at=timezone.now())
    assert orm.id > max(i.id for i in mine)


async def test_a_failed_insert_writes_none_of_its_rows(db: None) -> None:
    await rows_insert_one(7)
    with pytest.raises(IntegrityError):
        async with in_transaction():
            await rows.insert([_item(6), _item(7)])  # 7 is taken (dedupe_key)
    assert await OutboxItem.filter(kind="test.rows").count() == 1


async def rows_insert_one(n: int) -> None:
    async with in_transaction():
        await rows.insert([_item(n)])


async def test_mixed_or_misused_rows_are_refused(db: None) -> None:
    with pytest.raises(ValueError, match="every row"):
        await rows.insert([_item(1, id=10), _item(2)])
    await rows.insert([])  # nothing to do
    assert await OutboxItem.all().count() == 0


async def test_rows_that_refer_to_each_other_go_together_or_not_at_all(db: None) -> None:
    async with in_transaction():
        taken = await ids.allocate({Department: 1, Staff: 1})
        department = Department(
            id=taken[Department][0], code="HW", name="环卫处", kind=DepartmentKind.DEPARTMENT
        )
        staff = Staff(
            id=taken[Staff][0],
            username="ly",
            display_name="李勇",
            password_hash="x",
            roles=["handler"],
        )
        staff.department_id = department.id  # written in the same statement
        together = rows.Together(Staff)
        together.rows([department])
        together.rows([staff])
        now = timezone.now()
        part = together.sql(
            'INSERT INTO "access_token" ("token_hash", "staff_id", "created_at", "expires_at") '
            'VALUES ($1, $2, $3, $4) RETURNING "staff_id"',
            [
                "h" * 64,
                staff.id,
                rows.param(AccessToken, "created_at", now),
                rows.param(AccessToken, "expires_at", now + dt.timedelta(hours=1)),
            ],
        )
        outbox = [_item(1), _item(2)]
        together.rows(outbox)
        returned = await together.send()
    assert returned[part] == [staff.id]
    assert all(o.id for o in outbox) and outbox[0].id < outbox[1].id
    stored = await Staff.get(id=staff.id)
    assert stored.roles == ["handler"] and stored.department_id == department.id
    assert (await Department.get(id=department.id)).code == "HW"
    token = await AccessToken.get(staff_id=staff.id)
    assert token.expires_at > now

    with pytest.raises(IntegrityError):
        async with in_transaction():
            together = rows.Together(OutboxItem)
            together.rows([_item(3)])
            together.rows([_item(1)])  # its dedupe key is taken: the whole statement fails
            await together.send()
    assert await OutboxItem.filter(dedupe_key="rows|3").count() == 0
