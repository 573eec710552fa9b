"""Joining at connect and switching with change_channel both go through the permission hooks."""

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from apigw_ws.contrib.django.models import ChannelPermission, WebSocketSession

pytestmark = pytest.mark.django_db

Access = ChannelPermission.Access


def change(conn, channel, **extra):
    return conn.send({"handler": "change_channel", "channel": channel, **extra})


def channel_of(conn):
    return WebSocketSession.objects.get(connection_id=conn.connection_id).channel_name


@pytest.fixture
def staff_rooms(db):
    return ChannelPermission.objects.create(channel_name="staff-*", access=Access.STAFF)


def test_a_user_the_rule_refuses_cannot_join_at_connect(with_channels, staff_rooms, ws_client):
    conn = ws_client.connect(channel="staff-room")
    assert conn.response.status_code == 403
    assert not WebSocketSession.objects.exists()


def test_a_user_the_rule_admits_joins_at_connect(
    with_channels, staff_rooms, ws_client, client, django_user_model
):
    client.force_login(django_user_model.objects.create_user("s", is_staff=True))
    conn = ws_client.connect(channel="staff-room")
    assert conn.response.status_code == 200
    assert channel_of(conn) == "staff-room"


def test_the_gateways_default_channel_is_checked_too(
    with_channels, staff_rooms, ws_gateway, ws_client
):
    ws_gateway.default_channel_name = "staff-default"
    ws_gateway.save()
    assert ws_client.connect().response.status_code == 403


def test_unlisted_channels_are_allowed_by_default_and_refused_when_configured(
    with_channels, ws_client
):
    assert ws_client.connect(channel="lobby").response.status_code == 200
    with_channels("apigw_ws.builtin_plugins.channels", ALLOW_UNLISTED=False)
    assert ws_client.connect(channel="lobby").response.status_code == 403
    # No channel at all is not a channel to refuse.
    assert ws_client.connect().response.status_code == 200


def test_change_channel_moves_the_session_when_allowed(with_channels, ws_client):
    conn = ws_client.connect(channel="lobby")
    response = change(conn, "room-2")
    assert (response.status_code, response.json()) == (200, {"channel": "room-2"})
    assert channel_of(conn) == "room-2"


def test_change_channel_is_refused_and_changes_nothing_when_denied(
    with_channels, staff_rooms, ws_client
):
    conn = ws_client.connect(channel="lobby")
    assert change(conn, "staff-secret").status_code == 403
    assert channel_of(conn) == "lobby"


@pytest.mark.parametrize(
    "body",
    [
        {"handler": "change_channel"},
        {"handler": "change_channel", "channel": 5},
        {"handler": "change_channel", "channel": None},
        {"handler": "change_channel", "channel": ["lobby"]},
        {"handler": "change_channel", "channel": "x" * 129},
        {"handler": "change_channel", "channel": "room 1"},
        {"handler": "change_channel", "channel": "../admin"},
        {"handler": "change_channel", "channel": "caf\u00e9"},
        {"handler": "change_channel", "channel": ""},
    ],
)
def test_malformed_change_channel_bodies_get_400_and_change_nothing(with_channels, ws_client, body):
    conn = ws_client.connect(channel="lobby")
    response = conn.send(body)
    assert response.status_code == 400
    assert channel_of(conn) == "lobby"


@pytest.mark.parametrize("channel", ["x" * 129, "a b", "room%00", "<script>", "caf\u00e9"])
def test_connect_with_a_malformed_channel_gets_400_and_writes_nothing(
    with_channels, ws_client, channel
):
    response = ws_client.connect(channel=channel).response
    assert (response.status_code, response.json()) == (400, {"error": "Invalid channel"})
    assert not WebSocketSession.objects.exists()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=140),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@hsettings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(channel=json_values, extra=st.dictionaries(st.text(max_size=10), json_values, max_size=3))
def test_hostile_change_channel_bodies_never_5xx_and_only_move_to_allowed_valid_names(
    with_channels, staff_rooms, ws_client, channel, extra
):
    conn = ws_client.connect(channel="lobby")
    body = {**extra, "handler": "change_channel", "channel": channel}
    response = conn.send(body)
    assert response.status_code in (200, 400, 403, 413)
    moved = channel_of(conn)
    if response.status_code == 200:
        assert moved == channel
        assert not channel.startswith("staff-")
    else:
        assert moved == "lobby"


def test_a_third_party_plugin_replaces_the_channel_check(
    channel_plugins, ws_client, client, django_user_model
):
    # Without the built-in plugin its rows mean nothing; the third-party rule decides.
    channel_plugins("tests.plugins.vip_channels")
    ChannelPermission.objects.create(channel_name="vip-*", access=Access.ALLOW_ALL)
    ChannelPermission.objects.create(channel_name="lobby", access=Access.SUPERUSER)
    assert ws_client.connect(channel="vip-lounge").response.status_code == 403
    conn = ws_client.connect(channel="lobby")
    assert conn.response.status_code == 200
    assert change(conn, "vip-lounge").status_code == 403
    client.force_login(django_user_model.objects.create_user("vip-victor"))
    vip = ws_client.connect(channel="vip-lounge")
    assert vip.response.status_code == 200
    client.logout()
    assert change(vip, "vip-bar").status_code == 200
    assert channel_of(vip) == "vip-bar"


def test_channel_permissions_are_editable_in_the_admin(admin_client):
    response = admin_client.post(
        "/admin/apigw_ws/channelpermission/add/",
        {"channel_name": "team-*", "access": "staff", "description": "teams"},
    )
    assert response.status_code == 302, response.content[:500]
    assert ChannelPermission.objects.get().channel_name == "team-*"
    bad = admin_client.post(
        "/admin/apigw_ws/channelpermission/add/", {"channel_name": "a b", "access": "staff"}
    )
    assert bad.status_code == 200  # the form again, with the error
    assert ChannelPermission.objects.count() == 1
    assert admin_client.get("/admin/apigw_ws/channelpermission/").status_code == 200
