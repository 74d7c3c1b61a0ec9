"""Migrations apply on this backend and match the models; the server refuses a stale schema."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import SimpleNamespace

import pytest
from tortoise import Tortoise
from tortoise.connection import get_connection

from core.config import Settings, load_settings
from core.db import SchemaOutOfDate, database, model_drift, pending_migrations


async def test_models_and_migrations_agree(settings: Settings) -> None:
    """Fails when a model changed without `cityloop makemigrations`."""
    async with database(settings) as ctx:
        assert await model_drift(ctx, settings) == []
        assert await pending_migrations(settings) == []


async def test_every_model_column_exists_in_the_migrated_database(db: None) -> None:
    """The SQL the migrations ran made every column the models read and write."""
    conn = get_connection("default")
    assert Tortoise.apps is not None
    for app in Tortoise.apps.values():
        for model in app.values():
            meta = model._meta
            columns = ", ".join(f'"{meta.fields_db_projection[f]}"' for f in meta.db_fields)
            sql = f'SELECT {columns} FROM "{meta.db_table}" WHERE 1 = 0'  # noqa: S608 (our names)
            await conn.execute_query(sql)


async def test_server_refuses_an_unmigrated_database(tmp_path: Path, settings: Settings) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("a fresh empty database is cheap on SQLite; the check is backend-neutral")
    fresh = load_settings(database_url=f"sqlite://{tmp_path}/empty.sqlite3")
    with pytest.raises(SchemaOutOfDate) as err:
        async with database(fresh):
            pass
    assert "cityloop migrate" in err.value.detail
    assert "core.0001_initial" in err.value.detail


LIST_INDEXES = importlib.import_module("migrations.cases.0005_list_indexes")


async def _indexes() -> dict[str, bool]:
    """The case table's list indexes and whether each is valid (SQLite's always are)."""
    connection = get_connection("default")
    if connection.capabilities.dialect == "postgres":
        rows = await connection.execute_query_dict(
            "SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = '\"case\"'::regclass"
        )
        return {r["name"]: bool(r["valid"]) for r in rows}
    rows = await connection.execute_query_dict("PRAGMA index_list('case')")
    return {r["name"]: True for r in rows}


async def test_the_list_indexes_are_built_and_an_interrupted_build_is_redone(db: None) -> None:
    """Migration cases/0005 builds its indexes CONCURRENTLY on PostgreSQL; a build cut short
    leaves an INVALID index, which the next `cityloop migrate` drops and builds again."""
    connection = get_connection("default")
    postgres = connection.capabilities.dialect == "postgres"
    names = [n for n, _ in LIST_INDEXES.BTREE] + (
        [n for n, _ in LIST_INDEXES.POSTGRES] if postgres else []
    )
    found = await _indexes()
    assert all(found.get(n) for n in names), found
    editor = SimpleNamespace(client=connection)
    if postgres:  # what a cut-short CREATE INDEX CONCURRENTLY leaves behind
        await connection.execute_script(
            "UPDATE pg_index SET indisvalid = false "
            "WHERE indexrelid = 'case_department_created'::regclass"
        )
        assert (await _indexes())["case_department_created"] is False
    await LIST_INDEXES.add_indexes(None, editor)  # again: nothing is built twice
    found = await _indexes()
    assert all(found.get(n) for n in names), found
    await LIST_INDEXES.drop_indexes(None, editor)
    assert not set(names) & set(await _indexes())
    await LIST_INDEXES.add_indexes(None, editor)
    found = await _indexes()
    assert all(found.get(n) for n in names), found
