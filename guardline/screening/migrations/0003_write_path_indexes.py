"""Drop four indexes a full screening pass wrote a million times and nothing read: the grades' and warnings' run
links (provenance, never a lookup key) and the warnings' status alone (the (status, grade, opened_at) index serves
it). On SQLite Django would remake both tables to change db_index; dropping the indexes by name is the same schema
without copying a province's rows. Other databases take Django's own ALTER."""

import django.db.models.deletion
from django.db import migrations, models

CHANGES = [
    ("householdgrade", "run"),
    ("riskwarning", "last_run"),
    ("riskwarning", "opened_by_run"),
    ("riskwarning", "status"),
]


def _alter(apps, schema_editor, forwards: bool):
    for model_name, field_name in CHANGES:
        model = apps.get_model("screening", model_name)
        current = model._meta.get_field(field_name)
        old, new = current.clone(), current.clone()
        old.db_index, new.db_index = forwards, not forwards
        for field in (old, new):
            field.set_attributes_from_name(field_name)
            field.model = model
            if current.remote_field is not None:  # a clone names its target model as a string: resolve it
                field.remote_field.model = current.remote_field.model
        if schema_editor.connection.vendor != "sqlite":
            schema_editor.alter_field(model, old, new)
            continue
        names = schema_editor._constraint_names(model, [old.column], index=True, unique=False, primary_key=False)
        if forwards:
            for name in names:
                schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")
        elif not names:
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[new]))


def forwards(apps, schema_editor):
    _alter(apps, schema_editor, True)


def backwards(apps, schema_editor):
    _alter(apps, schema_editor, False)


class Migration(migrations.Migration):
    dependencies = [
        ("screening", "0002_run_scorer"),
    ]

    state_operations = [
        migrations.AlterField(
            model_name="householdgrade",
            name="run",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                to="screening.screeningrun",
            ),
        ),
        migrations.AlterField(
            model_name="riskwarning",
            name="last_run",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="screening.screeningrun",
            ),
        ),
        migrations.AlterField(
            model_name="riskwarning",
            name="opened_by_run",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="screening.screeningrun",
            ),
        ),
        migrations.AlterField(
            model_name="riskwarning",
            name="status",
            field=models.CharField(
                choices=[("open", "待处置"), ("closed", "已关闭")], default="open", max_length=8
            ),
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=state_operations,
            database_operations=[migrations.RunPython(forwards, backwards)],
        )
    ]
