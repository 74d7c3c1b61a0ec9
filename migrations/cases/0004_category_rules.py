from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('cases', '0003_case_checked_status'), ('core', '0004_accounts_departments_audit')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CategoryRule',
            fields=[
                ('code', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=16)),
                ('rules', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'category_rule', 'app': 'cases', 'pk_attr': 'code', 'table_description': 'The live rules of one category, as cases/rules/service.py keeps them.'},
            bases=['Model'],
        ),
    ]
