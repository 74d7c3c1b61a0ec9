"""Migrations apply on this backend and match the models; the server refuses a stale schema."""

from __future__ import annotations

from pathlib import Path

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
