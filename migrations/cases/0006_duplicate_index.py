"""The index of the duplicate search: open cases of a category near a point.

Intake looks for an open case of the same category within the merge radius (20 m by
default) on every report; with only (category_code, created_at) it read every case of the
category in the window, more with each report of a busy day. (category_code, lat) reads the
few cases in a band some 40 m wide. PostgreSQL builds it CONCURRENTLY (about 1 s per million
rows here), so a large table keeps taking reports meanwhile; an interrupted build leaves an
INVALID index that the next `cityloop migrate` drops and builds again.
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

NAME = "case_category_lat"


async def add_index(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    if client.capabilities.dialect != "postgres":
        await client.execute_script(
            f'CREATE INDEX IF NOT EXISTS "{NAME}" ON "case" (category_code, lat)'
        )
        return
    invalid = await client.execute_query_dict(
        "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname = $1 AND NOT i.indisvalid",
        [NAME],
    )
    if invalid:
        await client.execute_script(f'DROP INDEX CONCURRENTLY IF EXISTS "{NAME}"')
    await client.execute_script(
        f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{NAME}" ON "case" (category_code, lat)'
    )


async def drop_index(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    how = "CONCURRENTLY " if client.capabilities.dialect == "postgres" else ""
    await client.execute_script(f'DROP INDEX {how}IF EXISTS "{NAME}"')


class Migration(migrations.Migration):
    dependencies = [("cases", "0005_list_indexes")]

    initial = False
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    operations = [
        ops.RunPython(add_index, drop_index),
    ]
