from tortoise import migrations
from tortoise.migrations import operations as ops
from channels.wechat_mp.const import Check, Delivered
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='MediaCheck',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('trace_id', fields.CharField(unique=True, max_length=128)),
                ('report_id', fields.IntField(db_index=True)),
                ('suggest', fields.CharField(null=True, max_length=16)),
            ],
            options={'table': 'wechat_mp_media_check', 'app': 'wechat_mp', 'pk_attr': 'id', 'table_description': "One photo sent to WeChat's async image check, found again by its trace id."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MpDelivery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('outbox_id', fields.BigIntField(unique=True)),
                ('case_id', fields.IntField(db_index=True)),
                ('citizen_id', fields.IntField()),
                ('action', fields.CharField(max_length=32)),
                ('status', fields.CharEnumField(description='SENT: sent\nNO_QUOTA: no_quota\nUNDELIVERABLE: undeliverable\nSKIPPED: skipped', enum_type=Delivered, max_length=16)),
                ('errcode', fields.IntField(null=True)),
                ('detail', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'wechat_mp_delivery', 'app': 'wechat_mp', 'pk_attr': 'id', 'table_description': 'What became of one notice to a 小程序 citizen.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MpReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('citizen_id', fields.IntField(db_index=True)),
                ('case_id', fields.IntField(db_index=True)),
                ('number', fields.CharField(null=True, max_length=32)),
                ('idempotency_key', fields.CharField(max_length=128)),
                ('check', fields.CharEnumField(default=Check.PASS, description='PASS: pass\nREVIEW: review\nRISKY: risky\nUNCHECKED: unchecked\nPENDING: pending', enum_type=Check, max_length=16)),
                ('check_detail', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'wechat_mp_report', 'app': 'wechat_mp', 'unique_together': (('citizen_id', 'idempotency_key'),), 'pk_attr': 'id', 'table_description': 'A report filed through the 小程序: the rate limit counts these, the content check'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Quota',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('citizen_id', fields.IntField()),
                ('template_id', fields.CharField(max_length=128)),
                ('remaining', fields.IntField(default=0)),
                ('long_term', fields.BooleanField(default=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'wechat_mp_quota', 'app': 'wechat_mp', 'unique_together': (('citizen_id', 'template_id'),), 'pk_attr': 'id', 'table_description': 'How many subscribe messages of one template a citizen allowed (一次性订阅: one each).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Session',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('citizen_id', fields.IntField(unique=True)),
                ('openid', fields.CharField(unique=True, max_length=64)),
                ('session_key', fields.CharField(max_length=128)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'wechat_mp_session', 'app': 'wechat_mp', 'pk_attr': 'id', 'table_description': "A citizen's 小程序 session: the session_key stays here, never in an answer or a log."},
            bases=['Model'],
        ),
    ]
