"""The names the built-in plugins handed to the Django app still import from their old homes."""

import importlib

import pytest

from apigw_ws.contrib.django import channel_access, login_binding, session_ending

MOVED = [
    ("apigw_ws.builtin_plugins.channels", "may_join", channel_access),
    ("apigw_ws.builtin_plugins.channels", "recheck_users", channel_access),
    ("apigw_ws.builtin_plugins.login_binding", "end_user_sessions", session_ending),
    ("apigw_ws.builtin_plugins.login_binding", "end_sessions", session_ending),
    ("apigw_ws.builtin_plugins.login_binding", "close_connections", session_ending),
    ("apigw_ws.builtin_plugins.login_binding", "lock_user", login_binding),
]


@pytest.mark.parametrize(("old", "name", "new"), MOVED)
def test_a_moved_name_is_the_same_object_from_its_old_path(old, name, new):
    assert getattr(importlib.import_module(old), name) is getattr(new, name)
    assert name in new.__all__


@pytest.mark.parametrize(
    "old", ["apigw_ws.builtin_plugins.channels", "apigw_ws.builtin_plugins.login_binding"]
)
def test_an_unknown_name_is_still_an_attribute_error(old):
    module = importlib.import_module(old)
    with pytest.raises(AttributeError):
        module.no_such_name
    assert not hasattr(module, "__path__")  # what the import system asks of a module
