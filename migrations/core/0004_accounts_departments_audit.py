from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('core', '0003_media_token_login_throttle')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('actor_id', fields.IntField(null=True, db_index=True)),
                ('actor', fields.CharField(max_length=64)),
                ('action', fields.CharField(db_index=True, max_length=48)),
                ('target', fields.CharField(max_length=32)),
                ('target_id', fields.CharField(null=True, max_length=64)),
                ('before', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('after', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('request_id', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'audit_entry', 'app': 'core', 'indexes': [Index(fields=['target', 'target_id'])], 'pk_attr': 'id', 'table_description': 'Who did what to which record, with the record before and after (never a password).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Department',
            name='contact_name',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddField(
            model_name='Department',
            name='contact_phone',
            field=fields.CharField(null=True, max_length=20),
        ),
        ops.AddField(
            model_name='Department',
            name='retired_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='GridAssignment',
            name='is_primary',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name='Staff',
            name='must_change_password',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
