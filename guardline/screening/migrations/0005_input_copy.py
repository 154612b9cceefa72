"""The columnar copy of the screening inputs (guardline.screening.mirror): its change log, its state, and on SQLite
the triggers that fill the log. Rows already there are not logged: the first pass builds the copy from a full
read."""

from django.db import migrations, models


def triggers_create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        from guardline.screening.mirror import triggers_create

        with schema_editor.connection.cursor() as cursor:
            triggers_create(cursor)


def triggers_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        from guardline.screening.mirror import triggers_drop

        with schema_editor.connection.cursor() as cursor:
            triggers_drop(cursor)


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0004_warning_digest"),
        ("ingest", "0008_feedevent_screening_cover"),
        ("registry", "0004_member_id_number_hash_unique"),
    ]

    operations = [
        migrations.CreateModel(
            name="InputChange",
            fields=[
                ("seq", models.BigAutoField(primary_key=True, serialize=False)),
                ("source", models.PositiveSmallIntegerField()),
                ("row_id", models.BigIntegerField()),
            ],
        ),
        migrations.CreateModel(
            name="InputCopyState",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("token", models.CharField(max_length=32)),
                ("watermark", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(triggers_create, triggers_drop),
    ]
