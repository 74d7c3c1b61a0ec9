from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from core.jobs.models import OutboxStatus
from core.org.models import DepartmentKind
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Citizen',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('channel', fields.CharField(max_length=32)),
                ('external_id', fields.CharField(max_length=128)),
                ('union_id', fields.CharField(null=True, db_index=True, max_length=128)),
                ('phone', fields.CharField(null=True, max_length=20)),
                ('nickname', fields.CharField(null=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'citizen', 'app': 'core', 'unique_together': (('channel', 'external_id'),), 'pk_attr': 'id', 'table_description': 'An identity from a channel (e.g. a WeChat openid), optionally with a phone number.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Department',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=32)),
                ('name', fields.CharField(max_length=64)),
                ('kind', fields.CharEnumField(description='DISTRICT: district\nSTREET: street\nCOMMUNITY: community\nDEPARTMENT: department\nUNIT: unit', enum_type=DepartmentKind, max_length=16)),
                ('parent', fields.ForeignKeyField('core.Department', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name='children', on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'department', 'app': 'core', 'pk_attr': 'id', 'table_description': 'A node of the tree district → street → community, or a department/unit.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Grid',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=15)),
                ('name', fields.CharField(max_length=64)),
                ('street', fields.ForeignKeyField('core.Department', source_field='street_id', db_constraint=True, to_field='id', related_name='street_grids', on_delete=OnDelete.RESTRICT)),
                ('community', fields.ForeignKeyField('core.Department', source_field='community_id', null=True, db_constraint=True, to_field='id', related_name='community_grids', on_delete=OnDelete.RESTRICT)),
                ('geometry', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'grid', 'app': 'core', 'pk_attr': 'id', 'table_description': 'A 单元网格: a polygon with a 15-digit code (GB/T 47678.3), in a street and community.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxItem',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=64)),
                ('payload', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=OutboxStatus.PENDING, description='PENDING: pending\nRUNNING: running\nDONE: done\nFAILED: failed', enum_type=OutboxStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('available_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('done_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox', 'app': 'core', 'indexes': [Index(fields=['status', 'available_at'])], 'pk_attr': 'id', 'table_description': 'One side effect to perform: a job name and its payload.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Staff',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('username', fields.CharField(unique=True, max_length=64)),
                ('display_name', fields.CharField(max_length=64)),
                ('password_hash', fields.CharField(max_length=255)),
                ('roles', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('department', fields.ForeignKeyField('core.Department', source_field='department_id', null=True, db_constraint=True, to_field='id', related_name='staff', on_delete=OnDelete.SET_NULL)),
                ('phone', fields.CharField(null=True, max_length=20)),
                ('is_active', fields.BooleanField(default=True)),
                ('failed_logins', fields.IntField(default=0)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'staff', 'app': 'core', 'pk_attr': 'id', 'table_description': 'A person of the centre or a department, who logs in with a password.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AccessToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('staff', fields.ForeignKeyField('core.Staff', source_field='staff_id', null=True, db_constraint=True, to_field='id', related_name='tokens', on_delete=OnDelete.CASCADE)),
                ('citizen', fields.ForeignKeyField('core.Citizen', source_field='citizen_id', null=True, db_constraint=True, to_field='id', related_name='tokens', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'access_token', 'app': 'core', 'indexes': [Index(fields=['staff_id'])], 'pk_attr': 'id', 'table_description': 'An opaque bearer token, of which only the sha256 is kept.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='GridAssignment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('staff', fields.ForeignKeyField('core.Staff', source_field='staff_id', db_constraint=True, to_field='id', related_name='grid_assignments', on_delete=OnDelete.CASCADE)),
                ('grid', fields.ForeignKeyField('core.Grid', source_field='grid_id', db_constraint=True, to_field='id', related_name='assignments', on_delete=OnDelete.CASCADE)),
            ],
            options={'table': 'grid_assignment', 'app': 'core', 'unique_together': (('staff', 'grid'),), 'indexes': [Index(fields=['grid_id'])], 'pk_attr': 'id', 'table_description': 'An inspector (监督员) covers a grid.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MediaObject',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('sha256', fields.CharField(db_index=True, max_length=64)),
                ('mime', fields.CharField(max_length=32)),
                ('ext', fields.CharField(max_length=8)),
                ('public_ext', fields.CharField(max_length=8)),
                ('size', fields.IntField()),
                ('width', fields.IntField()),
                ('height', fields.IntField()),
                ('gps_lon', fields.FloatField(null=True)),
                ('gps_lat', fields.FloatField(null=True)),
                ('taken_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('uploaded_by_staff', fields.ForeignKeyField('core.Staff', source_field='uploaded_by_staff_id', null=True, db_constraint=True, to_field='id', related_name='uploads', on_delete=OnDelete.SET_NULL)),
                ('uploaded_by_citizen', fields.ForeignKeyField('core.Citizen', source_field='uploaded_by_citizen_id', null=True, db_constraint=True, to_field='id', related_name='uploads', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'media_object', 'app': 'core', 'pk_attr': 'id', 'table_description': 'One upload of an image by one person (files are shared by the sha256 of the original).'},
            bases=['Model'],
        ),
    ]
