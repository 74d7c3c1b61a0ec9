from tortoise import migrations
from tortoise.migrations import operations as ops
from cases.const import CaseStatus, Stage
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('cases', '0002_report_no_callback'), ('core', '0001_initial'), ('core', '0002_packages_events_kv')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Case',
            name='stage',
            field=fields.CharEnumField(null=True, description='ACCEPT: accept\nVERIFY: verify\nREGISTER: register\nDISPATCH: dispatch\nHANDLE: handle\nCHECK: check\nCLOSE: close', enum_type=Stage, max_length=16),
        ),
        ops.AlterField(
            model_name='Case',
            name='status',
            field=fields.CharEnumField(default=CaseStatus.REPORTED, description='REPORTED: reported\nVERIFYING: verifying\nREGISTERED: registered\nDISPATCHED: dispatched\nHANDLED: handled\nCHECKED: checked\nCLOSED: closed\nREJECTED: rejected\nCANCELLED: cancelled\nSUSPENDED: suspended', enum_type=CaseStatus, max_length=16),
        ),
    ]
