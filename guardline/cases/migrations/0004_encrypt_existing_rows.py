"""Encrypt the existing declarants' ID numbers and phones with the current data key and fill the blind indexes (batched; reversible)."""

from django.db import migrations


def forward(apps, schema_editor):
    from guardline.core.crypto_services import model_reencrypt

    for name in ['Clue']:
        model_reencrypt(apps.get_model('cases', name))


def backward(apps, schema_editor):
    from guardline.core.crypto_services import model_reencrypt

    for name in ['Clue']:
        model_reencrypt(apps.get_model('cases', name), decrypt_only=True)


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0003_encrypt_columns'),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
