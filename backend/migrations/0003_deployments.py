from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('plutarc', '0002_domain')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BotClaim',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('bot', fields.ForeignKeyField('plutarc.Bot', source_field='bot_id', unique=True, db_constraint=True, to_field='id', related_name='claim', on_delete=OnDelete.CASCADE)),
                ('supervisor', fields.CharField(max_length=64)),
                ('until', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'bot_claims', 'app': 'plutarc', 'pk_attr': 'id', 'table_description': "A supervisor's lease on one bot: only the holder deploys, restarts or stops it."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LatencySample',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('bot', fields.ForeignKeyField('plutarc.Bot', source_field='bot_id', db_constraint=True, to_field='id', related_name='latency_samples', on_delete=OnDelete.CASCADE)),
                ('provider', fields.CharField(max_length=16)),
                ('region', fields.CharField(max_length=64)),
                ('exchange', fields.CharField(max_length=32)),
                ('latency_ms', fields.IntField()),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'latency_samples', 'app': 'plutarc', 'indexes': [Index(fields=['at'])], 'pk_attr': 'id', 'table_description': "One heartbeat's round trip to the exchange, kept an hour for the regional roll-up."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RegionLatency',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('provider', fields.CharField(max_length=16)),
                ('region', fields.CharField(max_length=64)),
                ('exchange', fields.CharField(max_length=32)),
                ('p50_ms', fields.FloatField()),
                ('p95_ms', fields.FloatField()),
                ('samples', fields.IntField()),
                ('bots', fields.IntField()),
                ('window_s', fields.IntField()),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'region_latency', 'app': 'plutarc', 'unique_together': (('provider', 'region', 'exchange'),), 'pk_attr': 'id', 'table_description': 'Measured exchange latency per (provider, region, exchange) over the recent window,'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Bot',
            name='removed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        # hand-added: the generated CreateModel leaves out a ForeignKeyField's unique=True,
        # and deployer:claim's ON CONFLICT (bot_id) needs it (one claim per bot)
        ops.RunSQL(
            "CREATE UNIQUE INDEX bot_claims_bot_id_key ON bot_claims (bot_id)",
            "DROP INDEX bot_claims_bot_id_key",
        ),
    ]
