from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('core', '0005_grid_retired')]

    initial = True

    operations = [
        ops.CreateModel(
            name='Device',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('staff', fields.ForeignKeyField('core.Staff', source_field='staff_id', db_constraint=True, to_field='id', related_name='devices', on_delete=OnDelete.CASCADE)),
                ('device_id', fields.CharField(description="the app's install id", max_length=64)),
                ('platform', fields.CharField(max_length=16)),
                ('name', fields.CharField(default='', max_length=64)),
                ('transport', fields.CharField(default='sse', max_length=32)),
                ('push_token', fields.CharField(null=True, description="the vendor's token", max_length=255)),
                ('last_seen_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'field_device', 'app': 'grid_app', 'unique_together': (('staff', 'device_id'),), 'pk_attr': 'id', 'table_description': 'A phone of a staff member: how pushes reach it besides its event stream.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DutyShift',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('staff', fields.ForeignKeyField('core.Staff', source_field='staff_id', db_constraint=True, to_field='id', related_name='duty_shifts', on_delete=OnDelete.CASCADE)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('start_lon', fields.FloatField(null=True, description='WGS-84')),
                ('start_lat', fields.FloatField(null=True, description='WGS-84')),
                ('ended_at', fields.DatetimeField(null=True, description='null: on duty', auto_now=False, auto_now_add=False)),
                ('end_lon', fields.FloatField(null=True)),
                ('end_lat', fields.FloatField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'field_duty_shift', 'app': 'grid_app', 'indexes': [Index(fields=['staff_id', 'ended_at'])], 'pk_attr': 'id', 'table_description': '上岗 to 下岗 of one inspector: where and when each end was.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PushMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('staff', fields.ForeignKeyField('core.Staff', source_field='staff_id', db_constraint=True, to_field='id', related_name='push_messages', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(unique=True, description='the notice it came from', max_length=64)),
                ('kind', fields.CharField(description='task, dispatch, rework, urge, …', max_length=16)),
                ('case_id', fields.BigIntField(null=True)),
                ('task_id', fields.BigIntField(null=True)),
                ('title', fields.CharField(max_length=32)),
                ('text', fields.CharField(max_length=300)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'field_push_message', 'app': 'grid_app', 'indexes': [Index(fields=['staff_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One message for one staff member (its id is the event id of the stream).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SyncItem',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('staff', fields.ForeignKeyField('core.Staff', source_field='staff_id', db_constraint=True, to_field='id', related_name='sync_items', on_delete=OnDelete.CASCADE)),
                ('client_id', fields.CharField(description="the phone's UUID of the item", max_length=36)),
                ('kind', fields.CharField(max_length=16)),
                ('answer', fields.JSONField(description='what the phone was told', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('case_id', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'field_sync_item', 'app': 'grid_app', 'unique_together': (('staff', 'client_id'),), 'pk_attr': 'id', 'table_description': 'An item of a sync batch that was done, by its client UUID: a replay gets this answer.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TrackPoint',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('staff', fields.ForeignKeyField('core.Staff', source_field='staff_id', db_constraint=True, to_field='id', related_name='track_points', on_delete=OnDelete.CASCADE)),
                ('at', fields.DatetimeField(description='when the phone took the fix', auto_now=False, auto_now_add=False)),
                ('lon', fields.FloatField(description='WGS-84')),
                ('lat', fields.FloatField(description='WGS-84')),
                ('accuracy_m', fields.FloatField(null=True, description="the phone's own estimate")),
                ('speed_mps', fields.FloatField(null=True)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'field_track_point', 'app': 'grid_app', 'unique_together': (('staff', 'at'),), 'pk_attr': 'id', 'table_description': 'One GPS fix of a phone on duty, as it sent it (kept for audit, never dropped).'},
            bases=['Model'],
        ),
    ]
