"""ChannelPermission rules: which row governs a channel, and whom it lets in."""

import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.core.exceptions import ValidationError

from apigw_ws.contrib.django.models import ChannelPermission

pytestmark = pytest.mark.django_db

Access = ChannelPermission.Access


def rule(name, access=Access.ALLOW_ALL, **kwargs):
    return ChannelPermission.objects.create(channel_name=name, access=access, **kwargs)


def test_an_exact_name_beats_any_pattern():
    rule("team-*")
    exact = rule("team-red")
    assert ChannelPermission.objects.for_channel("team-red") == exact


def test_the_pattern_with_more_literal_characters_wins():
    rule("*")
    team = rule("team-*")
    rule("t*")
    assert ChannelPermission.objects.for_channel("team-blue") == team


def test_question_mark_matches_exactly_one_character_and_case_matters():
    room = rule("room-??")
    assert ChannelPermission.objects.for_channel("room-12") == room
    assert ChannelPermission.objects.for_channel("room-123") is None
    assert ChannelPermission.objects.for_channel("ROOM-12") is None


def test_an_unmatched_channel_has_no_rule():
    rule("team-*")
    assert ChannelPermission.objects.for_channel("lobby") is None


@pytest.mark.parametrize("name", ["a b", "room/1", "x" * 129, "[ab]", "room.1", ""])
def test_names_and_patterns_outside_the_channel_alphabet_are_invalid(name):
    with pytest.raises(ValidationError):
        ChannelPermission(channel_name=name, access=Access.ALLOW_ALL).full_clean()


@pytest.fixture
def users(django_user_model):
    make = django_user_model.objects.create_user
    return {
        "anonymous": AnonymousUser(),
        "user": make("user"),
        "staff": make("staff", is_staff=True),
        "superuser": django_user_model.objects.create_superuser("root"),
        "inactive_staff": make("gone", is_staff=True, is_active=False),
    }


@pytest.mark.parametrize(
    ("access", "allowed"),
    [
        (Access.ALLOW_ALL, {"anonymous", "user", "staff", "superuser", "inactive_staff"}),
        (Access.AUTHENTICATED, {"user", "staff", "superuser"}),
        (Access.STAFF, {"staff", "superuser"}),
        (Access.SUPERUSER, {"superuser"}),
    ],
)
def test_each_access_level_admits_exactly_its_users(users, access, allowed):
    channel_rule = rule("c", access)
    assert {name for name, user in users.items() if channel_rule.allows(user)} == allowed


def test_permission_rules_need_all_or_any_of_their_permissions(users):
    view, change = Permission.objects.filter(codename__in=["view_user", "change_user"])
    user = users["user"]
    user.user_permissions.add(view)
    all_rule = rule("a", Access.PERMISSIONS)
    all_rule.permissions.add(view, change)
    any_rule = rule("b", Access.PERMISSIONS, require_all_permissions=False)
    any_rule.permissions.add(view, change)
    user = type(user).objects.get(pk=user.pk)  # fresh permission cache
    assert not all_rule.allows(user)
    assert any_rule.allows(user)
    assert not any_rule.allows(users["anonymous"])
    assert any_rule.allows(users["superuser"])


def test_a_permission_rule_without_permissions_admits_nobody(users):
    empty = rule("e", Access.PERMISSIONS)
    assert not any(empty.allows(user) for user in users.values())
