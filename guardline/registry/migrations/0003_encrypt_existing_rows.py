"""Encrypt the existing ID numbers and phones of members and households with the current data key and fill the blind indexes (batched; reversible)."""

from django.db import migrations


def forward(apps, schema_editor):
    from guardline.core.crypto_services import model_reencrypt

    for name in ['Household', 'Member']:
        model_reencrypt(apps.get_model('registry', name))


def backward(apps, schema_editor):
    from guardline.core.crypto_services import model_reencrypt

    for name in ['Household', 'Member']:
        model_reencrypt(apps.get_model('registry', name), decrypt_only=True)


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0002_encrypt_columns'),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
