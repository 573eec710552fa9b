"""The message path no longer writes: ``request_count`` (a write per message) goes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("apigw_ws", "0006_login_session_hash")]

    operations = [migrations.RemoveField(model_name="websocketsession", name="request_count")]
