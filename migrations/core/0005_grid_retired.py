from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('core', '0001_initial'), ('core', '0002_packages_events_kv'), ('core', '0003_media_token_login_throttle'), ('core', '0004_accounts_departments_audit')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Grid',
            name='retired_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
