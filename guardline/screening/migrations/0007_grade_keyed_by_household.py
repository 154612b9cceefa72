"""Grades keyed by the household (screening.models.RowidOneToOneField): the surrogate id goes, and on SQLite the
household id becomes the table's rowid. SQLite remakes the table once per operation; the grades are kept."""

import django.db.models.deletion
import guardline.screening.models
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0004_member_id_number_hash_unique"),
        ("screening", "0006_grade_village_grade_index"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="householdgrade",
            name="id",
        ),
        migrations.AlterField(
            model_name="householdgrade",
            name="household",
            field=guardline.screening.models.RowidOneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                primary_key=True,
                related_name="grade",
                serialize=False,
                to="registry.household",
            ),
        ),
    ]
