from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('plutarc', '0003_deployments')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BillingAccount',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('plutarc.User', source_field='user_id', db_constraint=True, to_field='id', related_name='billing', on_delete=OnDelete.CASCADE)),
                ('customer_id', fields.CharField(null=True, unique=True, max_length=100)),
                ('subscription_id', fields.CharField(null=True, max_length=100)),
                ('plan', fields.CharField(default='free', max_length=16)),
                ('status', fields.CharField(default='none', max_length=24)),
                ('effective_plan', fields.CharField(default='free', max_length=16)),
                ('period_start', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('period_end', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('cancel_at_period_end', fields.BooleanField(default=False)),
                ('grace_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('payment_method', fields.CharField(null=True, max_length=64)),
                ('next_invoice_cents', fields.BigIntField(null=True)),
                ('next_invoice_currency', fields.CharField(null=True, max_length=8)),
                ('next_invoice_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('stripe_read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'billing_accounts', 'app': 'plutarc', 'pk_attr': 'id', 'table_description': "A user's billing state. Invariant: `effective_plan` is the plan whose limits apply now:"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BillingEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('plutarc.User', source_field='user_id', db_constraint=True, to_field='id', related_name='billing_events', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=32)),
                ('level', fields.CharField(default='info', max_length=8)),
                ('message', fields.TextField(unique=False)),
                ('data', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'billing_events', 'app': 'plutarc', 'indexes': [Index(fields=['user_id', 'id'])], 'pk_attr': 'id', 'table_description': "A change of a user's billing the user sees (plan, payment, grace, bots paused)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BillingPausedBot',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('bot', fields.OneToOneField('plutarc.Bot', source_field='bot_id', db_constraint=True, to_field='id', related_name='billing_pause', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('plutarc.User', source_field='user_id', db_constraint=True, to_field='id', related_name='billing_paused_bots', on_delete=OnDelete.CASCADE)),
                ('reason', fields.TextField(unique=False)),
                ('paused_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'billing_paused_bots', 'app': 'plutarc', 'pk_attr': 'id', 'table_description': "A bot paused because its owner's plan no longer covers it; resumed (and removed from"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BillingSettings',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('enabled', fields.BooleanField(default=False)),
                ('mode', fields.CharField(default='off', max_length=8)),
                ('grace_s', fields.BigIntField(default=604800)),
                ('publishable_key', fields.CharField(null=True, max_length=200)),
                ('js_url', fields.CharField(null=True, max_length=500)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'billing_settings', 'app': 'plutarc', 'pk_attr': 'id', 'table_description': 'One row (id 1), written by the API process at start: whether billing is on (Stripe keys'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StripeEvent',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=100)),
                ('type', fields.CharField(max_length=64)),
                ('customer_id', fields.CharField(null=True, max_length=100)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'stripe_events', 'app': 'plutarc', 'pk_attr': 'id', 'table_description': 'A Stripe webhook event already applied: a replay finds its id here and changes nothing.'},
            bases=['Model'],
        ),
    ]
