"""Encrypt the ID numbers and phones kept in existing change-log entries (before/after); reversible."""

from django.db import migrations


def forward(apps, schema_editor):
    from guardline.core.crypto_services import changelog_reencrypt

    changelog_reencrypt(apps.get_model("core", "ChangeLog"))


def backward(apps, schema_editor):
    from guardline.core.crypto_services import changelog_reencrypt

    changelog_reencrypt(apps.get_model("core", "ChangeLog"), decrypt_only=True)


class Migration(migrations.Migration):

    dependencies = [
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
