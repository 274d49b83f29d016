from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('plutarc', '0006_alerts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RateHeadroom',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('api_key', fields.ForeignKeyField('plutarc.ApiKey', source_field='api_key_id', db_constraint=True, to_field='id', related_name='headroom', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('plutarc.User', source_field='user_id', db_constraint=True, to_field='id', related_name='headroom', on_delete=OnDelete.CASCADE)),
                ('bot', fields.ForeignKeyField('plutarc.Bot', source_field='bot_id', db_constraint=True, to_field='id', related_name='headroom', on_delete=OnDelete.CASCADE)),
                ('path', fields.CharField(max_length=100)),
                ('remaining', fields.IntField()),
                ('window_limit', fields.IntField()),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'rate_headroom', 'app': 'plutarc', 'unique_together': (('api_key', 'path'),), 'pk_attr': 'id', 'table_description': "Requests left (`remaining` of `window_limit` per window) on one endpoint of one key's account,"},
            bases=['Model'],
        ),
    ]
