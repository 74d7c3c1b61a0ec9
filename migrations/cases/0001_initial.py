from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from cases.const import AttachmentKind, CaseStatus, Source, Stage, TaskKind, TaskStatus, Urgency
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('core', '0001_initial')]

    initial = True

    operations = [
        ops.CreateModel(
            name='Case',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('number', fields.CharField(null=True, unique=True, max_length=24)),
                ('source', fields.CharEnumField(description='WECHAT_OA: wechat_oa\nWECHAT_MP: wechat_mp\nGRID_APP: grid_app\nHOTLINE: hotline\nVIDEO: video\nSENSOR: sensor\nUPPER_PLATFORM: upper_platform\nWEB: web', enum_type=Source, max_length=16)),
                ('status', fields.CharEnumField(default=CaseStatus.REPORTED, description='REPORTED: reported\nVERIFYING: verifying\nREGISTERED: registered\nDISPATCHED: dispatched\nHANDLED: handled\nCLOSED: closed\nREJECTED: rejected\nCANCELLED: cancelled\nSUSPENDED: suspended', enum_type=CaseStatus, max_length=16)),
                ('version', fields.IntField(default=0)),
                ('category_code', fields.CharField(null=True, db_index=True, max_length=16)),
                ('category_name', fields.CharField(null=True, max_length=64)),
                ('urgency', fields.CharEnumField(default=Urgency.B, description='A: A\nB: B\nC: C', enum_type=Urgency, max_length=1)),
                ('description', fields.TextField(default='', unique=False)),
                ('address', fields.CharField(default='', max_length=200)),
                ('lon', fields.FloatField(null=True)),
                ('lat', fields.FloatField(null=True)),
                ('grid', fields.ForeignKeyField('core.Grid', source_field='grid_id', null=True, db_constraint=True, to_field='id', related_name='cases', on_delete=OnDelete.RESTRICT)),
                ('street', fields.ForeignKeyField('core.Department', source_field='street_id', null=True, db_constraint=True, to_field='id', related_name='street_cases', on_delete=OnDelete.RESTRICT)),
                ('department', fields.ForeignKeyField('core.Department', source_field='department_id', null=True, db_constraint=True, to_field='id', related_name='cases', on_delete=OnDelete.RESTRICT)),
                ('stage', fields.CharEnumField(null=True, description='ACCEPT: accept\nVERIFY: verify\nREGISTER: register\nDISPATCH: dispatch\nHANDLE: handle\nCHECK: check', enum_type=Stage, max_length=16)),
                ('stage_unit', fields.CharField(null=True, max_length=16)),
                ('stage_limit_s', fields.IntField(null=True)),
                ('stage_used_s', fields.IntField(default=0)),
                ('stage_started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('deadline_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('warn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('overdue', fields.BooleanField(default=False)),
                ('urge_count', fields.IntField(default=0)),
                ('reopen_count', fields.IntField(default=0)),
                ('report_count', fields.IntField(default=1)),
                ('pending_request', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('registered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('dispatched_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('handled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'case', 'app': 'cases', 'indexes': [Index(fields=['status', 'category_code', 'created_at']), Index(fields=['category_code', 'lat', 'lon'])], 'pk_attr': 'id', 'table_description': 'One problem, from report to closure (案件).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CaseEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('cases.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('action', fields.CharField(max_length=32)),
                ('from_status', fields.CharField(null=True, max_length=16)),
                ('to_status', fields.CharField(max_length=16)),
                ('actor', fields.ForeignKeyField('core.Staff', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='case_events', on_delete=OnDelete.SET_NULL)),
                ('actor_kind', fields.CharField(max_length=16)),
                ('note', fields.TextField(default='', unique=False)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'case_event', 'app': 'cases', 'indexes': [Index(fields=['case_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One row of the timeline: who did what, when, from which status to which.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CaseAttachment',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('cases.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('media', fields.ForeignKeyField('core.MediaObject', source_field='media_id', db_constraint=True, to_field='id', related_name='case_links', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='REPORT: report\nVERIFY: verify\nBEFORE: before\nAFTER: after\nCHECK: check\nOTHER: other', enum_type=AttachmentKind, max_length=16)),
                ('event', fields.ForeignKeyField('cases.CaseEvent', source_field='event_id', null=True, db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'case_attachment', 'app': 'cases', 'indexes': [Index(fields=['case_id'])], 'pk_attr': 'id', 'table_description': 'A photo attached to a case at some step.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DispatchRule',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('category_code', fields.CharField(max_length=16)),
                ('grid', fields.ForeignKeyField('core.Grid', source_field='grid_id', null=True, db_constraint=True, to_field='id', related_name='dispatch_rules', on_delete=OnDelete.CASCADE)),
                ('area', fields.ForeignKeyField('core.Department', source_field='area_id', null=True, db_constraint=True, to_field='id', related_name='area_rules', on_delete=OnDelete.CASCADE)),
                ('department', fields.ForeignKeyField('core.Department', source_field='department_id', db_constraint=True, to_field='id', related_name='dispatch_rules', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'dispatch_rule', 'app': 'cases', 'pk_attr': 'id', 'table_description': 'Category × area → department, the most specific area winning (grid, street, district).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InspectorTask',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('cases.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='tasks', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='VERIFY: verify\nCHECK: check', enum_type=TaskKind, max_length=8)),
                ('status', fields.CharEnumField(default=TaskStatus.OPEN, description='OPEN: open\nDONE: done\nCANCELLED: cancelled', enum_type=TaskStatus, max_length=16)),
                ('grid', fields.ForeignKeyField('core.Grid', source_field='grid_id', null=True, db_constraint=True, to_field='id', related_name='tasks', on_delete=OnDelete.SET_NULL)),
                ('inspector', fields.ForeignKeyField('core.Staff', source_field='inspector_id', null=True, db_constraint=True, to_field='id', related_name='tasks', on_delete=OnDelete.SET_NULL)),
                ('deadline_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('passed', fields.BooleanField(null=True)),
                ('note', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('done_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'inspector_task', 'app': 'cases', 'indexes': [Index(fields=['inspector_id', 'status']), Index(fields=['case_id', 'kind']), Index(fields=['grid_id', 'status'])], 'pk_attr': 'id', 'table_description': "A 核实 or 核查 task for the grid's inspector, with its own deadline."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Report',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case', fields.ForeignKeyField('cases.Case', source_field='case_id', db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.CASCADE)),
                ('source', fields.CharEnumField(description='WECHAT_OA: wechat_oa\nWECHAT_MP: wechat_mp\nGRID_APP: grid_app\nHOTLINE: hotline\nVIDEO: video\nSENSOR: sensor\nUPPER_PLATFORM: upper_platform\nWEB: web', enum_type=Source, max_length=16)),
                ('idempotency_key', fields.CharField(max_length=128)),
                ('citizen', fields.ForeignKeyField('core.Citizen', source_field='citizen_id', null=True, db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.SET_NULL)),
                ('staff', fields.ForeignKeyField('core.Staff', source_field='staff_id', null=True, db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.SET_NULL)),
                ('description', fields.TextField(default='', unique=False)),
                ('address', fields.CharField(default='', max_length=200)),
                ('lon', fields.FloatField(null=True)),
                ('lat', fields.FloatField(null=True)),
                ('crs', fields.CharField(default='wgs84', max_length=16)),
                ('occurred_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('duplicate', fields.BooleanField(default=False)),
                ('extras', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'case_report', 'app': 'cases', 'unique_together': (('source', 'idempotency_key'),), 'indexes': [Index(fields=['case_id']), Index(fields=['citizen_id'])], 'pk_attr': 'id', 'table_description': 'What a channel submitted: the first report of a case, or a duplicate merged into it.'},
            bases=['Model'],
        ),
    ]
