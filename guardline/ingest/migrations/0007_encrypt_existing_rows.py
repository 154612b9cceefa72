"""Encrypt the existing ID numbers of department events with the current data key and fill the blind indexes (batched; reversible)."""

from django.db import migrations


def forward(apps, schema_editor):
    from guardline.core.crypto_services import model_reencrypt

    for name in ['FeedEvent']:
        model_reencrypt(apps.get_model('ingest', name))


def backward(apps, schema_editor):
    from guardline.core.crypto_services import model_reencrypt

    for name in ['FeedEvent']:
        model_reencrypt(apps.get_model('ingest', name), decrypt_only=True)


class Migration(migrations.Migration):

    dependencies = [
        ('ingest', '0006_encrypt_columns'),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
