"""Channel access is decided again when the user's flags, groups or permissions change.

A staff user in a staff-only channel stays there only while staff: clearing ``is_staff``,
removing the group or the permission that admitted them ends the WebSocket session
(marked disconnected; closed at the gateway on commit).
"""

import pytest
from django.contrib.auth.models import Group, Permission

from apigw_ws.builtin_plugins.channels import recheck_users
from apigw_ws.contrib.django.models import ChannelPermission, WebSocketSession

pytestmark = pytest.mark.django_db

Access = ChannelPermission.Access


@pytest.fixture
def rooms(db):
    ChannelPermission.objects.create(channel_name="staff-*", access=Access.STAFF)
    perm = Permission.objects.get(codename="view_websocketsession")
    rule = ChannelPermission.objects.create(channel_name="ops", access=Access.PERMISSIONS)
    rule.permissions.add(perm)
    return perm


def _connect(ws_client, user, channel):
    conn = ws_client.connect(user=user, channel=channel)
    assert conn.response.status_code == 200, conn.response.content
    return conn


def _connected(conn):
    return WebSocketSession.objects.get(connection_id=conn.connection_id).connected


def test_clearing_is_staff_ends_the_session_in_a_staff_channel(
    with_channels, rooms, ws_client, django_user_model, django_capture_on_commit_callbacks
):
    user = django_user_model.objects.create_user("s", is_staff=True)
    staff = _connect(ws_client, user, "staff-room")
    lobby = _connect(ws_client, user, "lobby")
    user.is_staff = False
    with django_capture_on_commit_callbacks():
        user.save()
    assert not _connected(staff)
    assert _connected(lobby)  # unlisted channels stay allowed
    assert staff.send({"text": "hi"}).json() == {"error": "Unknown connection"}


def test_other_saves_of_the_user_leave_the_session_alone(
    with_channels, rooms, ws_client, django_user_model
):
    user = django_user_model.objects.create_user("s", is_staff=True)
    staff = _connect(ws_client, user, "staff-room")
    user.first_name = "Sam"
    user.save()
    user.save(update_fields=["last_login"])
    assert _connected(staff)


@pytest.mark.parametrize(
    "how",
    ["user.groups.remove", "group.user_set.clear", "group.permissions.remove", "user.groups.clear"],
)
def test_losing_the_group_or_its_permission_ends_the_session(
    with_channels, rooms, ws_client, django_user_model, how
):
    group = Group.objects.create(name="ops")
    group.permissions.add(rooms)
    for n in range(3):  # the user's pk differs from the group's
        django_user_model.objects.create_user(f"other{n}")
    user = django_user_model.objects.create_user("o")
    user.groups.add(group)
    ops = _connect(ws_client, user, "ops")
    {
        "user.groups.remove": lambda: user.groups.remove(group),
        "user.groups.clear": lambda: user.groups.clear(),
        "group.user_set.clear": lambda: group.user_set.clear(),
        "group.permissions.remove": lambda: group.permissions.remove(rooms),
        "group.permissions.clear": lambda: group.permissions.clear(),
        "permission.group_set.clear": lambda: rooms.group_set.clear(),
    }[how]()
    assert not _connected(ops)


def test_losing_a_direct_permission_ends_the_session(
    with_channels, rooms, ws_client, django_user_model
):
    user = django_user_model.objects.create_user("o")
    user.user_permissions.add(rooms)
    ops = _connect(ws_client, user, "ops")
    user.user_permissions.remove(rooms)
    assert not _connected(ops)


def test_without_the_channels_plugin_nothing_is_rechecked(
    channel_plugins, rooms, ws_client, django_user_model
):
    channel_plugins()
    user = django_user_model.objects.create_user("s", is_staff=True)
    staff = _connect(ws_client, user, "staff-room")
    user.is_staff = False
    user.save()
    assert _connected(staff)


def test_recheck_users_is_there_for_changes_signals_do_not_see(
    with_channels, rooms, ws_client, django_user_model
):
    user = django_user_model.objects.create_user("s", is_staff=True)
    staff = _connect(ws_client, user, "staff-room")
    django_user_model.objects.filter(pk=user.pk).update(is_staff=False)
    assert _connected(staff)
    assert recheck_users([user.pk]) == 1
    assert not _connected(staff)
