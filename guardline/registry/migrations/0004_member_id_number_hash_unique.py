from django.db import migrations

import guardline.core.fields


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0003_encrypt_existing_rows'),
    ]

    operations = [
        migrations.AlterField(
            model_name='member',
            name='id_number_hash',
            field=guardline.core.fields.BlindIndexField(source='id_number', unique=True),
        ),
    ]
