# The currencies each import run saw (issue 19): rows by the ISO code they name. Runs loaded
# before it keep {}: their files were not read for it.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("orders", "0014_order_lines"),
    ]

    operations = [
        migrations.AddField(
            model_name="importrun",
            name="currencies",
            field=models.JSONField(
                blank=True,
                db_default=models.Value({}, output_field=models.JSONField()),
                default=dict,
                help_text="Rows by the currency they name (a sign, code or currency column).",
            ),
        ),
    ]
