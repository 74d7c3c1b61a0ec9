from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from vision.const import CheckStatus, EventStatus, CameraHealth
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('core', '0005_grid_retired')]

    initial = True

    operations = [
        ops.CreateModel(
            name='Camera',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=32)),
                ('name', fields.CharField(max_length=64)),
                ('enabled', fields.BooleanField(default=True, db_index=True)),
                ('spec', fields.JSONField(description='the CameraIn declared', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('lon', fields.FloatField(description='WGS84')),
                ('lat', fields.FloatField(description='WGS84')),
                ('grid_id', fields.IntField(null=True, description='the 单元网格 it stands in')),
                ('health', fields.CharEnumField(default=CameraHealth.UNKNOWN, description='UNKNOWN: unknown\nOK: ok\nRECONNECTING: reconnecting\nDEAD: dead', enum_type=CameraHealth, max_length=16)),
                ('health_detail', fields.CharField(default='', max_length=200)),
                ('last_frame_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('checked_at', fields.DatetimeField(null=True, description='when a reader last reported', auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'vision_camera', 'app': 'vision', 'pk_attr': 'id', 'table_description': 'One camera as declared (`spec`, a CameraIn) and as its reader last found it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='VisionEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('camera', fields.ForeignKeyField('vision.Camera', source_field='camera_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('zone', fields.CharField(max_length=40)),
                ('rule_index', fields.IntField()),
                ('category_code', fields.CharField(max_length=16)),
                ('urgency', fields.CharField(null=True, max_length=1)),
                ('label', fields.CharField(max_length=64)),
                ('score', fields.FloatField(description='the median score over the samples')),
                ('box', fields.JSONField(description='x1, y1, x2, y2 in pixels', encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('since_at', fields.DatetimeField(description='first seen standing in the zone', auto_now=False, auto_now_add=False)),
                ('fired_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(description='FILING: filing\nFILED: filed\nREVIEW: review\nCONFIRMED: confirmed\nDISMISSED: dismissed\nDUPLICATE: duplicate\nCOOLDOWN: cooldown', enum_type=EventStatus, max_length=16)),
                ('evidence_id', fields.BigIntField(null=True, description='media: the annotated picture')),
                ('frame_id', fields.BigIntField(null=True, description='media: the clean frame')),
                ('case_id', fields.BigIntField(null=True)),
                ('merged', fields.BooleanField(default=False, description='joined a case that was open')),
                ('reviewed_by', fields.ForeignKeyField('core.Staff', source_field='reviewed_by_id', null=True, db_constraint=True, to_field='id', related_name='vision_reviews', on_delete=OnDelete.SET_NULL)),
                ('reviewed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('review_note', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'vision_event', 'app': 'vision', 'indexes': [Index(fields=['camera_id', 'zone', 'category_code', 'status']), Index(fields=['status']), Index(fields=['case_id'])], 'pk_attr': 'id', 'table_description': 'A rule that fired on a camera: the evidence, and what became of it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='VisionCheck',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case_id', fields.BigIntField()),
                ('handle_event_id', fields.BigIntField(unique=True, description='the 处置 row it follows')),
                ('event', fields.ForeignKeyField('vision.VisionEvent', source_field='event_id', db_constraint=True, to_field='id', related_name='checks', on_delete=OnDelete.CASCADE)),
                ('camera', fields.ForeignKeyField('vision.Camera', source_field='camera_id', db_constraint=True, to_field='id', related_name='checks', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharEnumField(default=CheckStatus.WATCHING, description='WATCHING: watching\nPASSED: passed\nFAILED: failed\nSUPERSEDED: superseded', enum_type=CheckStatus, max_length=16)),
                ('samples', fields.IntField(default=0)),
                ('evidence_id', fields.BigIntField(null=True, description='media: the deciding picture')),
                ('detail', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('done_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'vision_check', 'app': 'vision', 'indexes': [Index(fields=['status', 'camera_id']), Index(fields=['case_id'])], 'pk_attr': 'id', 'table_description': '智能核查 of one 处置: the camera watches the zone again until it decides.'},
            bases=['Model'],
        ),
    ]
