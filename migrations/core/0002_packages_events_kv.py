from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('core', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='KeyValueItem',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=200)),
                ('value', fields.TextField(unique=False)),
                ('expires_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'kv_item', 'app': 'core', 'pk_attr': 'key', 'table_description': 'One short-lived value (an access token, a conversation draft) with its expiry.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='AccessToken',
            name='client',
            field=fields.CharField(null=True, max_length=16),
        ),
        ops.AddField(
            model_name='OutboxItem',
            name='dedupe_key',
            field=fields.CharField(null=True, unique=True, max_length=200),
        ),
    ]
