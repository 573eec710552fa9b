"""What another process does to a session: run in a spawned process with its own Django."""

import os


def change(kind, db_name, caches, apigw_ws, user_id, connection_id, results):
    """Make one change (``kind``) in this process, then report ``"done"`` (or the error)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django

    django.setup()
    from django.db import connections
    from django.test.utils import override_settings

    from apigw_ws.testing.outbox import Outbox
    from apigw_ws.testing.pytest_plugin import FAKE_AWS_ENVIRONMENT

    os.environ.update(FAKE_AWS_ENVIRONMENT)
    try:
        connections["default"].settings_dict["NAME"] = db_name
        # boto3: the transport the outbox answers for.
        apigw_ws = {**apigw_ws, "SEND_TRANSPORT": "boto3"}
        override_settings(CACHES=caches, APIGW_WS=apigw_ws).enable()
        # Login binding closes connections: the Management API is an outbox here too.
        with Outbox().capture():
            _change(kind, user_id, connection_id)
        results.put("done")
    except Exception as exc:  # reported to the test, which fails with it
        results.put(f"{type(exc).__name__}: {exc}")
    finally:
        connections.close_all()


def _change(kind, user_id, connection_id):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.test import Client

    from apigw_ws.contrib.django.conf import ws_settings
    from apigw_ws.testing.client import GatewayClient

    user = get_user_model().objects.get(pk=user_id)
    if kind == "revoke":
        user.user_permissions.remove(Permission.objects.get(codename="view_user"))
    elif kind == "password":
        user.set_password("changed-elsewhere")
        user.save()
    elif kind == "channel":  # a message served by this process moves the connection
        gateway = GatewayClient(Client(), api_id="testapi123", secret=ws_settings.secrets[0])
        response = gateway.send(
            {"handler": "change_channel", "channel": "room2"}, connection_id=connection_id
        )
        assert response.status_code == 200, response.content
    else:
        raise ValueError(kind)
