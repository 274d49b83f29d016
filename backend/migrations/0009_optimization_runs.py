from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('plutarc', '0008_security')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OptimizationRun',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('plutarc.User', source_field='user_id', db_constraint=True, to_field='id', related_name='optimization_runs', on_delete=OnDelete.CASCADE)),
                ('strategy', fields.ForeignKeyField('plutarc.Strategy', source_field='strategy_id', db_constraint=True, to_field='id', related_name='optimization_runs', on_delete=OnDelete.CASCADE)),
                ('strategy_version', fields.IntField()),
                ('params', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('kind', fields.CharField(max_length=8)),
                ('samples', fields.IntField(null=True)),
                ('seed', fields.IntField(default=0)),
                ('kpi', fields.CharField(max_length=32)),
                ('top', fields.IntField()),
                ('candles', fields.IntField()),
                ('walk_forward', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('status', fields.CharField(max_length=16)),
                ('done', fields.IntField(default=0)),
                ('total', fields.IntField()),
                ('trials', fields.IntField(null=True)),
                ('ranked', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('folds', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('efficiency', fields.FloatField(null=True)),
                ('warning', fields.TextField(null=True, unique=False)),
                ('error', fields.TextField(null=True, unique=False)),
                ('host', fields.CharField(max_length=255)),
                ('api_pid', fields.IntField()),
                ('worker_pid', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('beat_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'optimization_runs', 'app': 'plutarc', 'pk_attr': 'id', 'table_description': "A user's parameter search over one strategy version."},
            bases=['Model'],
        ),
    ]
