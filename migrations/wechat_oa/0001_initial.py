from tortoise import migrations
from tortoise.migrations import operations as ops
from channels.wechat_oa.const import DeliveryStatus, DraftStatus, PhotoState
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Delivery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('outbox_id', fields.BigIntField(unique=True)),
                ('case_id', fields.IntField(db_index=True)),
                ('citizen_id', fields.IntField()),
                ('action', fields.CharField(max_length=32)),
                ('kind', fields.CharField(max_length=16)),
                ('status', fields.CharEnumField(description='SENT: sent\nUNDELIVERABLE: undeliverable\nSKIPPED: skipped', enum_type=DeliveryStatus, max_length=16)),
                ('errcode', fields.IntField(null=True)),
                ('detail', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'wechat_oa_delivery', 'app': 'wechat_oa', 'pk_attr': 'id', 'table_description': 'What became of one notice to a citizen: sent, undeliverable (and why), or skipped.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Draft',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('openid', fields.CharField(db_index=True, max_length=64)),
                ('citizen_id', fields.IntField()),
                ('open_key', fields.CharField(null=True, unique=True, max_length=64)),
                ('status', fields.CharEnumField(default=DraftStatus.OPEN, description='OPEN: open\nCONFIRMING: confirming\nSUBMITTING: submitting\nSUBMITTED: submitted\nCANCELLED: cancelled\nEXPIRED: expired', enum_type=DraftStatus, max_length=16)),
                ('description', fields.TextField(default='', unique=False)),
                ('address', fields.CharField(default='', max_length=200)),
                ('lon', fields.FloatField(null=True)),
                ('lat', fields.FloatField(null=True)),
                ('category_code', fields.CharField(null=True, max_length=16)),
                ('photos', fields.IntField(default=0)),
                ('awaiting', fields.CharField(null=True, max_length=16)),
                ('case_id', fields.IntField(null=True)),
                ('merged', fields.BooleanField(default=False)),
                ('version', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'wechat_oa_draft', 'app': 'wechat_oa', 'pk_attr': 'id', 'table_description': 'A report being put together in the chat: one open draft per openid at a time.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Follower',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('openid', fields.CharField(unique=True, max_length=64)),
                ('citizen_id', fields.IntField()),
                ('subscribed', fields.BooleanField(default=True)),
                ('last_inbound_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'wechat_oa_follower', 'app': 'wechat_oa', 'pk_attr': 'id', 'table_description': 'An openid of the account and the citizen behind it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Inbound',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('msg_key', fields.CharField(unique=True, max_length=128)),
                ('openid', fields.CharField(db_index=True, max_length=64)),
                ('kind', fields.CharField(max_length=32)),
                ('content', fields.TextField(default='', unique=False)),
                ('media_id', fields.CharField(null=True, max_length=128)),
                ('draft_id', fields.IntField(null=True, db_index=True)),
                ('photo_state', fields.CharEnumField(null=True, description='PENDING: pending\nSTORED: stored\nFAILED: failed', enum_type=PhotoState, max_length=16)),
                ('media_object_id', fields.IntField(null=True)),
                ('reply', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'wechat_oa_inbound', 'app': 'wechat_oa', 'pk_attr': 'id', 'table_description': 'One message or event from WeChat, kept once by its key (MsgId, or sender + time for'},
            bases=['Model'],
        ),
    ]
