from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('plutarc', '0004_billing')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DecisionRecord',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('bot', fields.ForeignKeyField('plutarc.Bot', source_field='bot_id', db_constraint=True, to_field='id', related_name='decisions', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('plutarc.User', source_field='user_id', db_constraint=True, to_field='id', related_name='decisions', on_delete=OnDelete.CASCADE)),
                ('candle_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('outcome', fields.CharField(max_length=64)),
                ('record', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'decisions', 'app': 'plutarc', 'unique_together': (('bot', 'candle_at'),), 'pk_attr': 'id', 'table_description': 'Why one candle did or did not trade; `record` is `JournalRecord.to_json()` and'},
            bases=['Model'],
        ),
    ]
