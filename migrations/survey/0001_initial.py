from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from survey.const import Review, SurveyStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('core', '0001_initial'), ('core', '0002_packages_events_kv')]

    initial = True

    operations = [
        ops.CreateModel(
            name='Survey',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('case_id', fields.BigIntField()),
                ('report_id', fields.BigIntField()),
                ('close_event_id', fields.BigIntField(description='the 结案 timeline row it follows')),
                ('citizen', fields.ForeignKeyField('core.Citizen', source_field='citizen_id', db_constraint=True, to_field='id', related_name='surveys', on_delete=OnDelete.CASCADE)),
                ('number', fields.CharField(default='', max_length=24)),
                ('source', fields.CharField(max_length=16)),
                ('category_code', fields.CharField(null=True, max_length=16)),
                ('category_name', fields.CharField(null=True, max_length=64)),
                ('department_id', fields.IntField(null=True)),
                ('grid_id', fields.IntField(null=True)),
                ('questions_key', fields.CharField(default='default', max_length=32)),
                ('status', fields.CharEnumField(default=SurveyStatus.SCHEDULED, description='SCHEDULED: scheduled\nASKED: asked\nANSWERED: answered\nEXPIRED: expired\nUNREACHABLE: unreachable\nVOIDED: voided', enum_type=SurveyStatus, max_length=16)),
                ('closed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('due_at', fields.DatetimeField(db_index=True, description='the next ask', auto_now=False, auto_now_add=False)),
                ('via', fields.CharField(null=True, description='the channel that reached them', max_length=16)),
                ('asks', fields.IntField(default=0, description='sends so far, the first one included')),
                ('asked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('nonce', fields.CharField(unique=True, description='names the answer link', max_length=32)),
                ('answer', fields.CharField(null=True, max_length=16)),
                ('aspects', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('comment', fields.TextField(default='', unique=False)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('answered_by', fields.ForeignKeyField('core.Staff', source_field='answered_by_id', null=True, db_constraint=True, to_field='id', related_name='survey_answers', on_delete=OnDelete.SET_NULL)),
                ('review', fields.CharEnumField(null=True, description='PENDING: pending\nJUSTIFIED: justified\nUNJUSTIFIED: unjustified', enum_type=Review, max_length=16)),
                ('review_reason', fields.TextField(default='', unique=False)),
                ('reviewed_by', fields.ForeignKeyField('core.Staff', source_field='reviewed_by_id', null=True, db_constraint=True, to_field='id', related_name='survey_reviews', on_delete=OnDelete.SET_NULL)),
                ('reviewed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reopen_event_id', fields.BigIntField(null=True, description='the 重办 row it led to')),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'survey', 'app': 'survey', 'unique_together': (('report_id', 'close_event_id'),), 'indexes': [Index(fields=['case_id']), Index(fields=['status', 'via']), Index(fields=['review'])], 'pk_attr': 'id', 'table_description': 'One reporter asked about one closure of a case (回访).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SurveyAttempt',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('survey', fields.ForeignKeyField('survey.Survey', source_field='survey_id', db_constraint=True, to_field='id', related_name='attempts', on_delete=OnDelete.CASCADE)),
                ('outbox_id', fields.BigIntField(null=True)),
                ('via', fields.CharField(max_length=16)),
                ('reminder', fields.BooleanField(default=False)),
                ('outcome', fields.CharField(max_length=16)),
                ('detail', fields.CharField(default='', max_length=200)),
                ('agent', fields.ForeignKeyField('core.Staff', source_field='agent_id', null=True, db_constraint=True, to_field='id', related_name='survey_calls', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'survey_attempt', 'app': 'survey', 'indexes': [Index(fields=['survey_id'])], 'pk_attr': 'id', 'table_description': 'One try to reach a reporter: a send, a channel that could not, an unanswered call.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SurveyKey',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('value', fields.CharField(max_length=128)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'survey_key', 'app': 'survey', 'pk_attr': 'name', 'table_description': 'The key that signs answer links when CITYLOOP_SURVEY_SECRET is not set.'},
            bases=['Model'],
        ),
    ]
