"""Logout, a password change and deactivation end the user's live connections."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apigw_ws.builtin_plugins.login_binding import end_user_sessions
from apigw_ws.contrib.django.models import WebSocketSession

pytestmark = pytest.mark.django_db

PLUGIN = "apigw_ws.builtin_plugins.login_binding"


@pytest.fixture
def bound(settings, gateway, ws_gateway, ws_network):
    """List the plugin and point the Management API at the local gateway (stage 'test').

    The sessions are closed through the local gateway for real (``ws_network``).
    """
    ws_gateway.stage_name = gateway.config.stage
    ws_gateway.save()
    settings.APIGW_WS = {
        **settings.APIGW_WS,
        "PLUGINS": [*settings.APIGW_WS["PLUGINS"], PLUGIN],
        "ENDPOINT_URL": gateway.endpoint_url,
    }
    return gateway


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="old-password")


def open_as(ws_client, client, gateway, user, count=2):
    """Open ``count`` connections on the local gateway and connect them as ``user``."""
    ids = gateway.open_sinks(count)
    client.force_login(user)
    for cid in ids:
        assert ws_client.connect(connection_id=cid).response.status_code == 200
    return ids


def state(gateway, ids):
    """Return (connected in the database, open at the gateway) for each id."""
    rows = dict(
        WebSocketSession.objects.filter(connection_id__in=ids).values_list(
            "connection_id", "connected"
        )
    )
    return [(rows[cid], gateway.table.get(cid) is not None) for cid in ids]


def test_logout_marks_the_users_sessions_disconnected_and_closes_them(
    bound, ws_client, client, alice, django_user_model, django_capture_on_commit_callbacks
):
    bob_ids = open_as(ws_client, client, bound, django_user_model.objects.create_user("bob"), 1)
    alice_ids = open_as(ws_client, client, bound, alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.logout()
    assert state(bound, alice_ids) == [(False, False)] * 2
    assert state(bound, bob_ids) == [(True, True)]
    # The connection acts as nobody any more: its messages are refused.
    response = ws_client.send({}, connection_id=alice_ids[0])
    assert (response.status_code, response.json()) == (400, {"error": "Unknown connection"})


def test_a_password_change_ends_the_users_sessions(
    bound, ws_client, client, alice, django_capture_on_commit_callbacks
):
    ids = open_as(ws_client, client, bound, alice)
    alice.set_password("new-password")
    with django_capture_on_commit_callbacks(execute=True):
        alice.save()
    assert state(bound, ids) == [(False, False)] * 2


def test_deactivation_ends_the_users_sessions(
    bound, ws_client, client, alice, django_capture_on_commit_callbacks
):
    ids = open_as(ws_client, client, bound, alice)
    alice.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        alice.save(update_fields=["is_active"])
    assert state(bound, ids) == [(False, False)] * 2


def test_other_saves_leave_the_sessions_alone(bound, ws_client, client, alice):
    ids = open_as(ws_client, client, bound, alice)
    alice.first_name = "Alice"
    alice.save()
    alice.is_active = True  # already active: nothing ends
    alice.save(update_fields=["is_active"])
    assert state(bound, ids) == [(True, True)] * 2


def test_a_last_login_update_costs_no_extra_query(bound, alice):
    with CaptureQueriesContext(connection) as queries:
        alice.save(update_fields=["last_login"])
    assert len(queries) == 1


def test_ending_sessions_is_one_update(bound, ws_client, client, alice):
    open_as(ws_client, client, bound, alice, count=3)
    with CaptureQueriesContext(connection) as queries:
        assert end_user_sessions(alice) == 3
    updates = [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1


def test_without_the_plugin_logout_leaves_connections_open(
    settings, gateway, ws_gateway, ws_client, client, alice, django_capture_on_commit_callbacks
):
    # The module is imported (its receivers connected) but is not a listed plugin.
    ws_gateway.stage_name = gateway.config.stage
    ws_gateway.save()
    settings.APIGW_WS = {**settings.APIGW_WS, "ENDPOINT_URL": gateway.endpoint_url}
    ids = open_as(ws_client, client, gateway, alice)
    with django_capture_on_commit_callbacks(execute=True):
        client.logout()
    assert state(gateway, ids) == [(True, True)] * 2


@pytest.mark.ws_network  # a refused loopback port, for real
def test_logout_succeeds_when_the_management_api_is_unreachable(
    settings, ws_gateway, ws_client, client, alice, django_capture_on_commit_callbacks, caplog
):
    settings.APIGW_WS = {
        **settings.APIGW_WS,
        "PLUGINS": [*settings.APIGW_WS["PLUGINS"], PLUGIN],
        "ENDPOINT_URL": "http://127.0.0.1:9",  # nothing listens
    }
    client.force_login(alice)
    cid = ws_client.connect().connection_id
    with django_capture_on_commit_callbacks(execute=True):
        client.logout()
    assert not WebSocketSession.objects.get(connection_id=cid).connected
    assert "could not close" in caplog.text or "closing" in caplog.text


def test_a_rolled_back_password_change_ends_nothing(bound, ws_client, client, alice):
    from django.db import transaction

    ids = open_as(ws_client, client, bound, alice)
    alice.set_password("new-password")
    with transaction.atomic():
        alice.save()
        transaction.set_rollback(True)
    assert state(bound, ids) == [(True, True)] * 2
