from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('plutarc', '0005_decision_journal')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AlertSettings',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('plutarc.User', source_field='user_id', db_constraint=True, to_field='id', related_name='alert_settings', on_delete=OnDelete.CASCADE)),
                ('webhook_url', fields.CharField(null=True, max_length=2000)),
                ('webhook_secret', fields.CharField(null=True, max_length=100)),
            ],
            options={'table': 'alert_settings', 'app': 'plutarc', 'pk_attr': 'id', 'table_description': "A user's webhook: where alerts are POSTed and the secret that signs them (never"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('plutarc.User', source_field='user_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('bot', fields.ForeignKeyField('plutarc.Bot', source_field='bot_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=32)),
                ('level', fields.CharField(max_length=8)),
                ('message', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('webhook_state', fields.CharField(null=True, max_length=16)),
            ],
            options={'table': 'notifications', 'app': 'plutarc', 'indexes': [Index(fields=['user_id', 'id']), Index(fields=['webhook_state'])], 'pk_attr': 'id', 'table_description': 'One alert for a user. `read_at` is null until read. `webhook_state`: null (no webhook'},
            bases=['Model'],
        ),
    ]
