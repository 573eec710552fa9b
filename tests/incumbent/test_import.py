"""``ws_import_incumbent`` against the incumbent's real migrations and models.

A subprocess runs django-aws-api-gateway-websockets 4.1.0's own migrations into this test's
database and writes rows with its own models; the command under test then reads them.
"""

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from apigw_ws.contrib.django.models import ApiGateway, WebSocketSession

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


def incumbent(*args):
    settings = dict(connection.settings_dict)
    settings["NAME"] = str(settings["NAME"])
    env = {**os.environ, "INCUMBENT_DATABASE": json.dumps(settings, default=str)}
    subprocess.run(
        [sys.executable, "-m", "tests.incumbent.incumbent_rows", *map(str, args)],
        cwd=ROOT,
        env=env,
        check=True,
    )


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice")


@pytest.fixture
def incumbent_rows(alice):
    incumbent("create", alice.pk)
    yield
    incumbent("drop")


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("ws_import_incumbent", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_gateways_are_imported_with_every_field_both_models_share(incumbent_rows):
    run()
    chat = ApiGateway.objects.get(api_name="chat")
    assert (chat.api_id, chat.stage_name, chat.api_description) == (
        "abc123defg",
        "prod",
        "the chat",
    )
    assert chat.target_base_endpoint == "https://www.example.com/ws/"
    assert chat.default_channel_name == "lobby"
    assert chat.domain_name == "ws.example.com"
    assert chat.certificate_arn.startswith("arn:aws:acm:")
    assert chat.tags == {"team": "web"}
    assert ApiGateway.objects.get(api_name="other").api_id == "zzz999zzzz"


def test_live_sessions_are_imported_with_user_channel_and_count(incumbent_rows, alice):
    run()
    session = WebSocketSession.objects.get(connection_id="L0SM9cOFvHcCIhw=")
    assert (session.user, session.channel_name) == (alice, "lobby")
    assert session.connected is True
    assert session.api_gateway.api_name == "chat"
    assert session.connected_at.tzinfo is not None
    anonymous = WebSocketSession.objects.get(connection_id="anonymous000000=")
    assert anonymous.user is None


def test_dead_sessions_are_left_and_unimportable_ones_are_named_with_the_reason(incumbent_rows):
    out, err = run()
    imported = set(WebSocketSession.objects.values_list("connection_id", flat=True))
    assert imported == {"L0SM9cOFvHcCIhw=", "anonymous000000="}
    assert "skipped session nogateway000000=: it has no API gateway" in err
    assert "skipped session badchannel00000=: channel_name:" in err
    assert "imported 2, already here 0, skipped 2" in out


def test_additional_routes_are_listed_with_what_each_needs(incumbent_rows):
    report = json.loads(run("--json")[0])
    routes = {route["route_key"]: route["action"] for route in report["routes"]}
    # tests.plugins.chat registers a handler on "presence" and none on "typing".
    assert routes["presence"] == "ok: a handler is registered"
    assert routes["typing"] == "register a handler with @apigw_ws.handler(route='typing')"


def test_importing_twice_imports_nothing_the_second_time(incumbent_rows):
    run()
    report = json.loads(run("--json")[0])
    assert report["gateways_created"] == []
    assert sorted(report["gateways_existing"]) == ["chat", "other"]
    assert (report["sessions_created"], report["sessions_existing"]) == (0, 2)
    assert WebSocketSession.objects.count() == 2


def test_an_existing_gateway_of_ours_is_left_as_it_is(incumbent_rows):
    ApiGateway.objects.create(api_name="chat", api_id="mine000000", stage_name="live")
    report = json.loads(run("--json")[0])
    assert "chat" in report["gateways_existing"]
    assert ApiGateway.objects.get(api_name="chat").api_id == "mine000000"


def test_a_dry_run_reports_and_writes_nothing(incumbent_rows):
    out, _ = run("--dry-run")
    assert "would import 2" in out
    assert not ApiGateway.objects.exists()
    assert not WebSocketSession.objects.exists()


def test_without_the_incumbents_tables_the_command_says_what_is_wrong():
    with pytest.raises(CommandError, match="with its migrations applied"):
        run()
