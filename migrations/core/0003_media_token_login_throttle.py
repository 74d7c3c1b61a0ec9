"""Photos get an unguessable public name; login throttles move from two Staff columns to kv."""

import secrets
from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


async def name_existing_photos(apps: Any, schema_editor: Any) -> None:
    """Give every photo stored before this migration its own random public token."""
    client = schema_editor.client
    mark = "$1" if client.capabilities.dialect == "postgres" else "?"
    mark2 = "$2" if mark == "$1" else "?"
    _, rows = await client.execute_query("SELECT id FROM media_object WHERE public_token IS NULL")
    for row in rows:
        await client.execute_query(
            f"UPDATE media_object SET public_token = {mark} WHERE id = {mark2}",  # noqa: S608
            [secrets.token_urlsafe(16), row["id"]],
        )


class Migration(migrations.Migration):
    dependencies = [('core', '0001_initial'), ('core', '0002_packages_events_kv')]

    initial = False

    operations = [
        ops.AddField(
            model_name='MediaObject',
            name='public_token',
            field=fields.CharField(null=True, unique=True, max_length=32),
        ),
        ops.RunPython(name_existing_photos, ops.RunPython.noop),
        ops.AlterField(
            model_name='MediaObject',
            name='public_token',
            field=fields.CharField(unique=True, max_length=32),
        ),
        ops.RemoveField(model_name='Staff', name='failed_logins'),
        ops.RemoveField(model_name='Staff', name='locked_until'),
    ]
