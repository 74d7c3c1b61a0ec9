"""Indexes for the case lists at ten million cases, and the bigram index of the text search.

On PostgreSQL every index is built with CREATE INDEX CONCURRENTLY: the table takes reports and
edits while it builds (README, "Upgrading a large database", says how long it takes). A build
that was interrupted leaves an INVALID index behind; running `cityloop migrate` again drops it
and builds it anew. The indexes are not declared on the models: tortoise's Meta.indexes cannot
say CONCURRENTLY, a partial index, an operator class or an expression.
"""

from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

# (name, columns) for both dialects: each list filter with the default order, the inbox.
BTREE = (
    ("case_department_created", "department_id, created_at"),
    ("case_department_status_created", "department_id, status, created_at"),
    ("case_grid_created", "grid_id, created_at"),
    ("case_street_created", "street_id, created_at"),
    ("case_source_created", "source, created_at"),
    ("case_status_created", "status, created_at"),
    ("case_category_created", "category_code, created_at"),
)
# PostgreSQL only. The running cases (a few percent of the table: the ones with a deadline,
# and 挂账 ones still flagged overdue) for the overdue and light filters, alone and per area or
# department; case numbers by prefix; text by bigrams.
POSTGRES = (
    ("case_running_created", "(created_at) WHERE overdue OR deadline_at IS NOT NULL"),
    ("case_grid_deadline", "(grid_id, deadline_at) WHERE deadline_at IS NOT NULL"),
    ("case_street_deadline", "(street_id, deadline_at) WHERE deadline_at IS NOT NULL"),
    ("case_department_deadline", "(department_id, deadline_at) WHERE deadline_at IS NOT NULL"),
    ("case_number_prefix", "(number varchar_pattern_ops)"),
    ("case_text_bigrams", "USING gin (cityloop_bigrams(description || ' ' || address))"),
)
# Every two-character window of a text, lower-cased and without white space, as a tsvector:
# a search word of two or more characters is found through the bigrams it is made of (Chinese
# has no spaces between words, and most search words, 垃圾, 井盖, are two characters long).
# cases/search.py builds the query side and must stay in step with it.
BIGRAMS = r"""
CREATE OR REPLACE FUNCTION cityloop_bigrams(t text) RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
  s text := regexp_replace(lower(t), '\s', '', 'g');
  grams text[] := '{}';
BEGIN
  FOR i IN 1 .. length(s) - 1 LOOP
    grams := grams || substr(s, i, 2);
  END LOOP;
  RETURN array_to_tsvector(grams);
END
$$
"""
# (PL/pgSQL: about 7 µs a row against 26 µs for the same in SQL, which is never inlined here.)


async def _postgres(client: Any, name: str, spec: str) -> None:
    invalid = await client.execute_query_dict(
        "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname = $1 AND NOT i.indisvalid",
        [name],
    )
    if invalid:  # an interrupted CONCURRENTLY build: drop it and build again
        await client.execute_script(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
    using = spec if spec.startswith("USING") or spec.startswith("(") else f"({spec})"
    await client.execute_script(
        f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "case" {using}'
    )


async def add_indexes(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    if client.capabilities.dialect != "postgres":
        for name, columns in BTREE:
            await client.execute_script(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "case" ({columns})'
            )
        return
    await client.execute_script(BIGRAMS)
    for name, spec in (*BTREE, *POSTGRES):
        await _postgres(client, name, spec)
    await client.execute_script('ANALYZE "case"')


async def drop_indexes(apps: Any, schema_editor: Any) -> None:
    client = schema_editor.client
    postgres = client.capabilities.dialect == "postgres"
    names = [n for n, _ in BTREE] + ([n for n, _ in POSTGRES] if postgres else [])
    for name in names:
        how = "CONCURRENTLY " if postgres else ""
        await client.execute_script(f'DROP INDEX {how}IF EXISTS "{name}"')
    if postgres:
        await client.execute_script("DROP FUNCTION IF EXISTS cityloop_bigrams(text)")


class Migration(migrations.Migration):
    dependencies = [("cases", "0004_category_rules")]

    initial = False
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    operations = [
        ops.RunPython(add_indexes, drop_indexes),
    ]
