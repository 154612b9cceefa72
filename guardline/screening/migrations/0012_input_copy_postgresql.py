"""The columnar copy of the screening inputs on PostgreSQL (guardline.screening.mirror): the triggers that fill its
change log, one per statement (guardline.screening.mirror_tables.PG_TRIGGERS). Rows already there are not logged:
the first pass builds the copy from a full read."""

from django.db import migrations


def triggers_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        from guardline.screening.mirror_tables import pg_triggers_create

        with schema_editor.connection.cursor() as cursor:
            pg_triggers_create(cursor)


def triggers_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        from guardline.screening.mirror_tables import pg_triggers_drop

        with schema_editor.connection.cursor() as cursor:
            pg_triggers_drop(cursor)


class Migration(migrations.Migration):
    dependencies = [("screening", "0011_grade_keys_unconstrained")]

    operations = [migrations.RunPython(triggers_create, triggers_drop)]
