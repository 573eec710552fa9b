from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("apigw_ws", "0005_recovery")]

    operations = [
        migrations.AddField(
            model_name="websocketsession",
            name="login_session_hash",
            field=models.CharField(
                blank=True,
                default="",
                editable=False,
                max_length=64,
                verbose_name="login session HMAC",
            ),
        ),
    ]
