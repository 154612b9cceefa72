"""One (village_code, grade) index on grades instead of one per column (a full pass writes a million grade rows,
each into every index). The single-column indexes are dropped by name rather than by altering the fields: on
SQLite, Django's AlterField of db_index remakes the whole table."""

from django.db import migrations, models

COLUMNS = (["village_code"], ["grade"])


def single_indexes_drop(apps, schema_editor):
    model = apps.get_model("screening", "HouseholdGrade")
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    for name, c in constraints.items():
        # PostgreSQL's `_like` index (varchar_pattern_ops) stays: it is what a village-code prefix (LIKE 'x%')
        # uses there under a non-C collation, which the new index cannot serve.
        if name.endswith("_like"):
            continue
        if c["index"] and not c["unique"] and not c["primary_key"] and c["columns"] in COLUMNS:
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def single_indexes_create(apps, schema_editor):
    model = apps.get_model("screening", "HouseholdGrade")
    table = model._meta.db_table
    for columns in COLUMNS:
        name = schema_editor._create_index_name(table, columns, suffix="")
        schema_editor.execute(
            f"CREATE INDEX {schema_editor.quote_name(name)} ON {schema_editor.quote_name(table)} "
            f"({schema_editor.quote_name(columns[0])})"
        )


class Migration(migrations.Migration):
    dependencies = [("screening", "0005_input_copy")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(single_indexes_drop, single_indexes_create)],
            state_operations=[
                migrations.AlterField(
                    model_name="householdgrade",
                    name="village_code",
                    field=models.CharField(max_length=12),
                ),
                migrations.AlterField(
                    model_name="householdgrade",
                    name="grade",
                    field=models.CharField(
                        choices=[("red", "红色"), ("yellow", "黄色"), ("green", "绿色")], max_length=6
                    ),
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="householdgrade",
            index=models.Index(fields=["village_code", "grade"], name="grade_village_grade"),
        ),
    ]
