"""The built-in permission plugin with Django's users, and a third-party deny through the view.

The plugin on its own, with stand-in users: tests/core/test_plugins.py.
"""

import pytest

import apigw_ws
from tests.core.test_plugins import check


def test_the_anonymous_user_is_denied():
    from django.contrib.auth.models import AnonymousUser

    assert check(AnonymousUser(), permissions=["auth.view_user"]) is False
    assert check(AnonymousUser(), all_permissions=["auth.view_user"]) is False


# -- through the view -------------------------------------------------------------------


class Deny:
    @apigw_ws.hookimpl
    def apigw_ws_check_permission(self, context, handler):
        return False


@pytest.mark.django_db
def test_a_third_party_deny_wins_even_when_the_builtin_permission_plugin_allows(
    ws_client, ws_plugins, client, django_user_model, handler_calls
):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("mod")
    user.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(user)
    conn = ws_client.connect()
    # control: the built-in plugin allows "moderate" to this user
    assert conn.send({"handler": "moderate"}).status_code == 200
    ws_plugins.add(Deny())
    response = conn.send({"handler": "moderate"})
    assert response.status_code == 403
    assert response.json() == {"error": "Forbidden"}
    assert handler_calls == [("moderate", conn.connection_id)]  # only the control call
