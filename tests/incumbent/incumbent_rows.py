"""Run by the tests in a subprocess: ``migrate`` the incumbent's app, then add rows or drop it.

``python -m tests.incumbent.incumbent_rows create USER_ID`` migrates and writes two
gateways, an additional route and sessions; ``... drop`` drops its tables.
Rows are written with ``bulk_create``: its ``save()`` would call AWS.
"""

import os
import sys

import django


def create(user_id: int) -> None:
    from django_aws_api_gateway_websockets.models import (
        ApiGateway,
        ApiGatewayAdditionalRoute,
        WebSocketSession,
    )

    chat, _other = ApiGateway.objects.bulk_create(
        [
            ApiGateway(
                api_name="chat",
                api_description="the chat",
                api_id="abc123defg",
                stage_name="prod",
                target_base_endpoint="https://www.example.com/ws/",
                default_channel_name="lobby",
                domain_name="ws.example.com",
                certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/x",
                tags={"team": "web"},
            ),
            ApiGateway(api_name="other", api_id="zzz999zzzz"),
        ]
    )
    ApiGatewayAdditionalRoute.objects.bulk_create(
        [
            ApiGatewayAdditionalRoute(
                api_gateway=chat,
                name="presence",
                route_key="presence",
                integration_url="https://www.example.com/ws/presence",
            ),
            ApiGatewayAdditionalRoute(
                api_gateway=chat,
                name="typing",
                route_key="typing",
                integration_url="https://www.example.com/ws/typing",
            ),
        ]
    )
    WebSocketSession.objects.bulk_create(
        [
            WebSocketSession(
                connection_id="L0SM9cOFvHcCIhw=",
                channel_name="lobby",
                user_id=user_id,
                api_gateway=chat,
                request_count=7,
            ),
            WebSocketSession(connection_id="anonymous000000=", api_gateway=chat),
            WebSocketSession(connection_id="gone00000000000=", api_gateway=chat, connected=False),
            WebSocketSession(connection_id="nogateway000000=", channel_name="lobby"),
            WebSocketSession(
                connection_id="badchannel00000=", channel_name="room 1/a!", api_gateway=chat
            ),
        ]
    )


def drop() -> None:
    """Drop its tables and forget its migrations (its own backward migrations fail)."""
    from django.apps import apps
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    label = "django_aws_api_gateway_websockets"
    with connection.schema_editor() as editor:
        for model in reversed(list(apps.get_app_config(label).get_models())):
            editor.delete_model(model)
    MigrationRecorder.Migration.objects.filter(app=label).delete()


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.incumbent.settings"
    django.setup()
    from django.core.management import call_command

    if sys.argv[1] == "drop":
        drop()
        return
    call_command("migrate", "django_aws_api_gateway_websockets", verbosity=0)
    create(int(sys.argv[2]))


if __name__ == "__main__":
    main()
