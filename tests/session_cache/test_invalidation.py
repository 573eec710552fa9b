"""Every change a message must see reaches it through ``SESSION_CACHE``: one message after
each change proves it (on Redis and on a local-memory cache, SQLite and PostgreSQL)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apigw_ws.contrib.django import session_cache as sc
from apigw_ws.contrib.django.models import WebSocketSession
from apigw_ws.contrib.django.sending import mark_gone

from .conftest import perm

pytestmark = pytest.mark.django_db

LOGIN_BINDING = "apigw_ws.builtin_plugins.login_binding"
CHANNELS = "apigw_ws.builtin_plugins.channels"


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="old-password")


@pytest.fixture
def connect_as(ws_client, client):
    def connect(user=None, **kwargs):
        if user is not None:
            client.force_login(user)
        conn = ws_client.connect(**kwargs)
        assert conn.response.status_code == 200
        client.cookies.clear()  # later messages carry no cookie, as from API Gateway
        return conn

    return connect


def served_from_cache(conn, body=None):
    """Send a message; return (response, whether it cost no query)."""
    with CaptureQueriesContext(connection) as queries:
        response = conn.send(body if body is not None else {})
    return response, not queries.captured_queries


def refused_unknown(response):
    return (response.status_code, response.json()) == (400, {"error": "Unknown connection"})


# --- what a hit costs, and what is stored -----------------------------------------------


def test_the_entry_written_at_connect_serves_the_first_message_without_a_query(
    session_cache, connect_as, alice, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        conn = connect_as(alice)
    response, cached = served_from_cache(conn, {"text": "hi"})
    assert cached
    assert response.json() == {"echo": {"text": "hi"}, "user": "alice"}


def test_a_permission_guarded_handler_is_decided_without_a_query(session_cache, connect_as, alice):
    alice.user_permissions.add(perm("view_user"))
    conn = connect_as(alice)
    conn.send({})  # fills the entry (the connect's is stored on commit)
    response, cached = served_from_cache(conn, {"handler": "moderate"})
    assert (response.status_code, cached) == (200, True)
    response, cached = served_from_cache(conn, {"handler": "administer"})
    assert (response.status_code, cached) == (403, True)


def test_the_cached_user_has_no_password_hash_and_loads_it_only_when_read(
    session_cache, connect_as, alice, ws_gateway
):
    conn = connect_as(alice)
    conn.send({})
    entry = session_cache.get(sc.layout().key(conn.connection_id))
    assert "alice" in repr(entry)
    assert alice.password not in repr(entry)  # the hash is not in the cache
    session = sc.session_for_message(conn.connection_id, ws_gateway)
    assert "password" in session.user.get_deferred_fields()
    assert session.user.check_password("old-password")  # one query, on demand


def test_a_missing_entry_is_refilled_by_the_next_message(session_cache, connect_as, alice):
    conn = connect_as(alice)
    session_cache.clear()
    response, cached = served_from_cache(conn)
    assert (response.json()["user"], cached) == ("alice", False)
    response, cached = served_from_cache(conn)
    assert (response.json()["user"], cached) == ("alice", True)


def test_an_entry_of_another_gateway_finds_no_session(session_cache, connect_as, ws_client):
    from apigw_ws.contrib.django.models import ApiGateway

    conn = connect_as()
    ApiGateway.objects.create(api_name="other", api_id="otherapi99")
    ws_client.api_id = "otherapi99"
    assert refused_unknown(conn.send({}))


# --- session changes --------------------------------------------------------------------


def test_disconnect_refuses_the_next_message(session_cache, connect_as):
    conn = connect_as()
    assert conn.disconnect().status_code == 200
    assert refused_unknown(conn.send({}))


def test_gone_marking_refuses_the_next_message(session_cache, connect_as):
    conn = connect_as()
    WebSocketSession.objects.filter(connection_id=conn.connection_id).update(
        connected_at=timezone.now() - timedelta(minutes=5)  # past the connect grace
    )
    assert mark_gone([conn.connection_id]) == 1
    assert refused_unknown(conn.send({}))


def test_a_session_marked_disconnected_refuses_the_next_message(session_cache, connect_as):
    conn = connect_as()
    conn.session.mark_disconnected()
    assert refused_unknown(conn.send({}))


def test_a_deleted_session_refuses_the_next_message(session_cache, connect_as):
    conn = connect_as()
    conn.session.delete()
    assert refused_unknown(conn.send({}))


def test_a_deleted_user_refuses_the_next_message(session_cache, connect_as, alice):
    conn = connect_as(alice)
    alice.delete()  # the session row goes with it (CASCADE)
    assert refused_unknown(conn.send({}))


def test_a_channel_change_is_used_by_the_next_message(session_cache, connect_as, with_plugins):
    with_plugins(CHANNELS)
    conn = connect_as(channel="lobby")
    assert conn.send({"action": "presence", "handler": "status"}, route="presence").json() == {
        "channel": "lobby"
    }
    changed = conn.send({"handler": "change_channel", "channel": "room2"})
    assert changed.json() == {"channel": "room2"}
    response = conn.send({"action": "presence", "handler": "status"}, route="presence")
    assert response.json() == {"channel": "room2"}


# --- login binding ----------------------------------------------------------------------


def test_logout_refuses_the_next_message(session_cache, connect_as, alice, with_plugins, client):
    with_plugins(LOGIN_BINDING)
    conn = connect_as(alice)
    assert conn.send({}).json()["user"] == "alice"
    client.force_login(alice)
    client.logout()
    assert refused_unknown(conn.send({}))


def test_a_password_change_refuses_the_next_message(session_cache, connect_as, alice, with_plugins):
    with_plugins(LOGIN_BINDING)
    conn = connect_as(alice)
    assert conn.send({}).json()["user"] == "alice"
    alice.set_password("new-password")
    alice.save()
    assert refused_unknown(conn.send({}))


def test_deactivation_refuses_the_next_message(session_cache, connect_as, alice, with_plugins):
    with_plugins(LOGIN_BINDING)
    conn = connect_as(alice)
    assert conn.send({}).json()["user"] == "alice"
    alice.is_active = False
    alice.save()
    assert refused_unknown(conn.send({}))


def test_deactivation_without_login_binding_denies_the_next_guarded_message(
    session_cache, connect_as, alice
):
    alice.user_permissions.add(perm("view_user"))
    conn = connect_as(alice)
    assert conn.send({"handler": "moderate"}).status_code == 200
    alice.is_active = False
    alice.save()
    assert conn.send({"handler": "moderate"}).status_code == 403


def test_a_renamed_user_is_seen_by_the_next_message(session_cache, connect_as, alice):
    conn = connect_as(alice)
    assert conn.send({}).json()["user"] == "alice"
    alice.username = "alicia"
    alice.save()
    assert conn.send({}).json()["user"] == "alicia"


def test_a_login_elsewhere_keeps_the_entry(session_cache, connect_as, alice, client):
    conn = connect_as(alice)
    conn.send({})  # fills the entry
    client.force_login(alice)  # saves last_login only
    response, cached = served_from_cache(conn)
    assert (response.json()["user"], cached) == ("alice", True)


# --- permissions and groups -------------------------------------------------------------


@pytest.fixture
def moderator(session_cache, connect_as, alice):
    """Alice, connected, allowed to moderate by her own permission; return her connection."""
    alice.user_permissions.add(perm("view_user"))
    conn = connect_as(alice)
    assert conn.send({"handler": "moderate"}).status_code == 200
    return conn


@pytest.fixture
def group_moderator(session_cache, connect_as, alice):
    """Alice, connected, allowed to moderate through the group 'mods'."""
    group = Group.objects.create(name="mods")
    group.permissions.add(perm("view_user"))
    alice.groups.add(group)
    conn = connect_as(alice)
    assert conn.send({"handler": "moderate"}).status_code == 200
    return conn, group


def guarded(conn):
    return conn.send({"handler": "moderate"}).status_code


def test_a_permission_granted_is_allowed_on_the_next_message(session_cache, connect_as, alice):
    conn = connect_as(alice)
    assert guarded(conn) == 403
    alice.user_permissions.add(perm("change_user"))
    assert guarded(conn) == 200


def test_a_revoked_user_permission_is_denied_on_the_next_message(moderator, alice):
    alice.user_permissions.remove(perm("view_user"))
    assert guarded(moderator) == 403


def test_cleared_user_permissions_are_denied_on_the_next_message(moderator, alice):
    alice.user_permissions.clear()
    assert guarded(moderator) == 403


def test_a_permission_taken_from_its_users_is_denied_on_the_next_message(moderator, alice):
    perm("view_user").user_set.remove(alice)
    assert guarded(moderator) == 403


def test_a_permission_cleared_of_users_is_denied_on_the_next_message(moderator):
    perm("view_user").user_set.clear()
    assert guarded(moderator) == 403


def test_a_deleted_permission_is_denied_on_the_next_message(moderator):
    perm("view_user").delete()
    assert guarded(moderator) == 403


#: Every way a group change takes a permission away, from either side of the relation.
GROUP_CHANGES = {
    "leaving-the-group": lambda user, group: user.groups.remove(group),
    "removal-from-the-group": lambda user, group: group.user_set.remove(user),
    "group-emptied-of-users": lambda user, group: group.user_set.clear(),
    "permission-taken-from-the-group": lambda user, group: group.permissions.remove(
        perm("view_user")
    ),
    "group-permissions-cleared": lambda user, group: group.permissions.clear(),
    "group-taken-from-the-permission": lambda user, group: perm("view_user").group_set.remove(
        group
    ),
}


@pytest.mark.parametrize("change", list(GROUP_CHANGES.values()), ids=list(GROUP_CHANGES))
def test_a_group_change_is_denied_on_the_next_message(group_moderator, alice, change):
    conn, group = group_moderator
    change(alice, group)
    assert guarded(conn) == 403


def test_a_deleted_group_is_denied_on_the_next_message(group_moderator):
    conn, group = group_moderator
    group.delete()
    assert guarded(conn) == 403


def test_joining_a_group_is_allowed_on_the_next_message(session_cache, connect_as, alice):
    group = Group.objects.create(name="mods")
    group.permissions.add(perm("view_user"))
    conn = connect_as(alice)
    assert guarded(conn) == 403
    group.user_set.add(alice)
    assert guarded(conn) == 200


# --- the fill never overwrites a change that raced with it -------------------------------


def test_a_read_that_races_with_a_change_cannot_store_what_it_read(
    session_cache, connect_as, monkeypatch, ws_gateway
):
    conn = connect_as(channel="lobby")
    key = sc.layout().key(conn.connection_id)
    session_cache.delete(key)
    real = WebSocketSession.objects.for_message

    def read_then_change(connection_id, gateway):
        session = real(connection_id, gateway)  # read before the change commits...
        WebSocketSession.objects.filter(pk=session.pk).update(channel_name="room2")
        sc.forget([connection_id])  # ...which tombstones the key after the read
        return session

    monkeypatch.setattr(WebSocketSession.objects, "for_message", read_then_change)
    assert sc.session_for_message(conn.connection_id, ws_gateway).channel_name == "lobby"
    monkeypatch.undo()
    assert session_cache.get(key) == sc.TOMBSTONE  # the stale read was not stored
    assert sc.session_for_message(conn.connection_id, ws_gateway).channel_name == "room2"
    assert session_cache.get(key)[0][sc.layout().session_fields.index("channel_name")] == "room2"


def test_without_a_cache_forget_does_nothing_and_costs_nothing(connect_as, alice):
    conn = connect_as(alice)
    with CaptureQueriesContext(connection) as queries:
        sc.forget([conn.connection_id])
        sc.forget_users([alice.pk])
    assert queries.captured_queries == []


# --- prune and the admin's disconnect (the Management API is the pytest plugin's outbox) ---


def test_prune_refuses_the_next_message_of_a_gone_connection(session_cache, connect_as, ws_outbox):
    from io import StringIO

    from django.core.management import call_command

    live, stale = connect_as(), connect_as()
    WebSocketSession.objects.update(connected_at=timezone.now() - timedelta(minutes=5))
    ws_outbox.gone(stale)
    call_command("ws_prune", stdout=StringIO())
    assert refused_unknown(stale.send({}))
    assert live.send({}).status_code == 200


def test_the_admins_disconnect_leaves_no_entry_behind(
    session_cache, connect_as, ws_outbox, admin_client
):
    from django.urls import reverse

    conn = connect_as()
    url = reverse("admin:apigw_ws_websocketsession_changelist")
    admin_client.post(url, {"action": "disconnect", "_selected_action": [str(conn.session.pk)]})
    assert ("DELETE", conn.connection_id) in {(c.method, c.connection_id) for c in ws_outbox.calls}
    # The $disconnect that API Gateway sends next marks the row; until then no message of
    # the closed connection is served from memory.
    assert session_cache.get(sc.layout().key(conn.connection_id)) == sc.TOMBSTONE
    conn.disconnect()
    assert refused_unknown(conn.send({}))


def test_a_connect_rolled_back_leaves_no_entry(session_cache, connect_as):
    conn = connect_as()  # the test's transaction never commits
    assert session_cache.get(sc.layout().key(conn.connection_id)) is None
