from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('cases', '0001_initial'), ('core', '0002_packages_events_kv')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Report',
            name='no_callback',
            field=fields.BooleanField(default=False, db_default=False),
        ),
    ]
