from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('plutarc', '0007_rate_headroom')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LoginAddress',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('plutarc.User', source_field='user_id', db_constraint=True, to_field='id', related_name='login_addresses', on_delete=OnDelete.CASCADE)),
                ('client', fields.CharField(max_length=64)),
                ('last_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'login_addresses', 'app': 'plutarc', 'unique_together': (('user', 'client'),), 'pk_attr': 'id', 'table_description': 'An address this user has logged in from: failures of strangers never lock it out.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TotpCredential',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('plutarc.User', source_field='user_id', db_constraint=True, to_field='id', related_name='totp', on_delete=OnDelete.CASCADE)),
                ('secret_ciphertext', fields.BinaryField()),
                ('wrapped_data_key', fields.BinaryField()),
                ('master_key_id', fields.CharField(max_length=16)),
                ('enabled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_step', fields.BigIntField(default=0)),
            ],
            options={'table': 'totp_credentials', 'app': 'plutarc', 'pk_attr': 'id', 'table_description': "A user's TOTP secret (RFC 6238), sealed like exchange secrets (backend/crypto.py)."},
            bases=['Model'],
        ),
    ]
