"""The example plugin package (examples/plugin) loads through its entry point and works.

CI installs it (``pip install -e examples/plugin``); there a missing package fails these
tests, elsewhere it skips them.
"""

import importlib.util
import json
import os
import subprocess
import sys
from importlib import metadata
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import override_settings

from tests.conftest import missing_prerequisite

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "plugin"

DISTRIBUTION = "apigw-ws-example-plugin"
PLUGIN = "example"  # the entry point's name

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _example_plugin_installed():
    if importlib.util.find_spec("apigw_ws_example") is None:
        missing_prerequisite(f"{DISTRIBUTION} is not installed: pip install -e examples/plugin")


def entry_points_on(**changes):
    """Override ``APIGW_WS`` with entry points loaded, keeping the test secret and plugins."""
    return override_settings(APIGW_WS={**settings.APIGW_WS, "LOAD_ENTRY_POINTS": True, **changes})


def json_of(command):
    out = StringIO()
    call_command(command, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_example_handlers_are_listed_with_their_distribution_and_version():
    with entry_points_on():
        rows = json_of("ws_handlers")
    mine = {(row["route"], row["name"]): row for row in rows if row["plugin"] == PLUGIN}
    assert set(mine) == {
        ("$default", "echo"),
        ("$default", "whoami"),
        ("$default", "user_count"),
        ("notes", "add"),
        ("notes", "share"),
    }
    assert {(row["distribution"], row["version"]) for row in mine.values()} == {
        (DISTRIBUTION, metadata.version(DISTRIBUTION))
    }
    assert mine["$default", "user_count"]["permissions"] == ["auth.view_user"]
    assert mine["notes", "add"]["required_keys"] == ["text"]


def test_example_plugin_is_not_loaded_while_entry_points_are_off():
    rows = json_of("ws_plugins")
    assert PLUGIN not in {row["name"] for row in rows}


def test_example_echo_handler_answers_through_the_dispatch_view(ws_client):
    with entry_points_on():
        conn = ws_client.connect()
        response = conn.send({"handler": "echo", "text": "hi"})
    assert response.status_code == 200
    assert response.json() == {"echo": {"handler": "echo", "text": "hi"}}


def test_example_notes_route_answers_with_the_stripped_note(ws_client):
    with entry_points_on():
        conn = ws_client.connect()
        response = conn.send({"action": "notes", "handler": "add", "text": " hi "}, route="notes")
    assert response.status_code == 200
    assert response.json() == {"note": "hi", "by": "anonymous"}


@pytest.mark.parametrize("text", ["", "   ", 42])
def test_example_validator_refuses_a_note_without_text(ws_client, text):
    with entry_points_on():
        conn = ws_client.connect()
        response = conn.send({"action": "notes", "handler": "add", "text": text}, route="notes")
    assert response.status_code == 400


def test_example_validator_leaves_other_plugins_handlers_alone(ws_client, handler_calls):
    # tests.plugins.chat's "say" also takes a "text" key; an empty one is fine there.
    with entry_points_on():
        conn = ws_client.connect()
        response = conn.send({"handler": "default", "text": ""})
    assert response.status_code == 200
    assert handler_calls == [("default", conn.connection_id)]


def test_example_permission_handler_needs_auth_view_user(ws_client, client, django_user_model):
    user = django_user_model.objects.create_user("bob", password="pw")
    client.force_login(user)
    with entry_points_on():
        conn = ws_client.connect()
        assert conn.send({"handler": "user_count"}).status_code == 403
        user.user_permissions.add(Permission.objects.get(codename="view_user"))
        response = conn.send({"handler": "user_count"})
    assert response.status_code == 200
    assert response.json() == {"users": 1}


def test_blocked_example_plugin_handlers_cannot_be_reached_and_it_shows_as_blocked(ws_client):
    with entry_points_on(BLOCKED_PLUGINS=[PLUGIN]):
        conn = ws_client.connect()
        response = conn.send({"handler": "echo", "text": "hi"})
        plugins = {row["name"]: row for row in json_of("ws_plugins")}
        handlers = json_of("ws_handlers")
    assert response.status_code == 400
    assert response.json() == {"error": "Unknown handler"}
    assert plugins[PLUGIN]["blocked"] is True
    assert plugins[PLUGIN]["source"] == "entry point"
    assert plugins[PLUGIN]["distribution"] == DISTRIBUTION
    assert PLUGIN not in {row["plugin"] for row in handlers}


def test_the_example_packages_own_tests_pass_with_the_shipped_fixtures_and_strategies():
    # Its own project settings, in its own process: as a plugin author would run them.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
