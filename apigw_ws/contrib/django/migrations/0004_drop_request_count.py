"""The message path no longer writes: ``request_count`` (a write per message) goes."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("apigw_ws", "0003_gateway_provisioning")]

    operations = [migrations.RemoveField(model_name="websocketsession", name="request_count")]
