"""``ws_send``, ``ws_prune`` and the session admin actions, against the local gateway."""

import datetime
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from apigw_ws.contrib.django.models import ApiGateway, FanOut, WebSocketSession

from .conftest import connected_ids, make_sessions, received, unknown_ids

pytestmark = pytest.mark.django_db


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_ws_send_all_prints_a_json_report_and_marks_gone(local, row):
    live, gone = local.open_sinks(3), unknown_ids(2)
    make_sessions(row, live + gone)
    report = json.loads(run("ws_send", "--all", "--data", '{"a": 1}', "--json"))
    assert (report["sessions"], report["sent"]) == (5, 3)
    assert sorted(report["gone"]) == sorted(gone)
    assert [received(local, cid) for cid in live] == [1, 1, 1]
    assert connected_ids() == set(live)


def test_ws_send_targets_a_connection_a_user_or_a_channel(local, row, django_user_model, tmp_path):
    bob = django_user_model.objects.create_user("bob")
    c1, c2, c3 = local.open_sinks(3)
    make_sessions(row, [c1])
    make_sessions(row, [c2], user=bob)
    make_sessions(row, [c3], channel="news")
    data = tmp_path / "message.json"
    data.write_text('{"from": "file"}', encoding="utf-8")
    run("ws_send", f"--connection={c1}", "--data", "1")  # an id may start with "-"
    run("ws_send", "--user", "bob", "--data", f"@{data}")
    table = run("ws_send", "--channel", "news", "--gateway", "local", "--data", '"x"')
    assert [received(local, c) for c in (c1, c2, c3)] == [1, 1, 1]
    assert "sent" in table
    assert "duration" in table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all", "--data", "{not json"], "not JSON"),
        (["--all", "--data", "@/nonexistent/file.json"], "cannot read"),
        (["--user", "nobody", "--data", "1"], "no user"),
        (["--all", "--gateway", "nope", "--data", "1"], "no gateway"),
        (["--all", "--data", json.dumps("x" * 131073)], "limit is 131072"),
        (["--all", "--data", "1", "--concurrency", "0"], "at least 1"),
    ],
)
def test_ws_send_refuses_bad_input_with_a_clear_error(local, row, args, message):
    make_sessions(row, local.open_sinks(1))
    with pytest.raises(CommandError, match=message):
        run("ws_send", *args)


def test_ws_send_needs_exactly_one_target(local, row):
    with pytest.raises(CommandError):
        run("ws_send", "--data", "1")
    with pytest.raises(CommandError):
        run("ws_send", "--all", "--channel", "x", "--data", "1")


def test_ws_send_fails_with_a_table_of_failures(start_gateway, row, settings):
    failing = start_gateway(error_rate=1.0)
    settings.APIGW_WS = {**settings.APIGW_WS, "ENDPOINT_URL": failing.endpoint_url}
    make_sessions(row, failing.open_sinks(2))
    with pytest.raises(CommandError, match="2 connection"):
        run("ws_send", "--all", "--data", "1")


def test_ws_send_background_enqueues_tasks(local, row):
    live = local.open_sinks(3)
    make_sessions(row, live)
    out = json.loads(run("ws_send", "--all", "--data", '{"n": 1}', "--background", "--json"))
    assert len(out["tasks"]) == 1
    assert FanOut.objects.get(pk=out["fanout"]).message_id == out["message_id"]
    assert [received(local, cid) for cid in live] == [1, 1, 1]  # immediate backend


def test_ws_send_background_names_the_id_every_message_carries(local, row):
    make_sessions(row, local.open_sinks(1))
    out = run("ws_send", "--all", "--data", '{"n": 1, "id": "notice-3"}', "--background")
    fanout = FanOut.objects.get()
    assert fanout.message_id == "notice-3"
    assert '1 session(s), enqueued 1 task(s), every message with "id" notice-3' in out
    assert f"ws_fanouts show {fanout.pk}" in out


def test_ws_prune_marks_the_gone_and_skips_young_sessions(local, row):
    live, gone, young = local.open_sinks(3), unknown_ids(2), unknown_ids(1)
    make_sessions(row, live + gone)
    make_sessions(row, young, age=datetime.timedelta(seconds=1))
    summary = json.loads(run("ws_prune", "--json"))
    assert (summary["checked"], summary["alive"], summary["marked"]) == (5, 3, 2)
    assert connected_ids() == set(live + young)
    assert [received(local, cid) for cid in live] == [0, 0, 0]  # GET, not POST


def test_ws_prune_dry_run_age_and_gateway_options(local, row):
    other = ApiGateway.objects.create(api_name="other", api_id="other", stage_name="local")
    old, older = unknown_ids(1), unknown_ids(1)
    make_sessions(row, old)
    make_sessions(other, older, age=datetime.timedelta(hours=2))
    dry = json.loads(run("ws_prune", "--dry-run", "--json"))
    assert (len(dry["gone"]), dry["marked"]) == (2, 0)
    assert connected_ids() == set(old + older)
    assert json.loads(run("ws_prune", "--older-than", "3600", "--json"))["checked"] == 1
    assert connected_ids() == set(old)
    table = run("ws_prune", "--gateway", "local")
    assert "marked" in table
    assert connected_ids() == set()
    with pytest.raises(CommandError, match="at least"):
        run("ws_prune", "--older-than", "1")


def test_admin_actions_send_a_test_message_and_disconnect(local, row, admin_client):
    live, gone = local.open_sinks(2), unknown_ids(1)
    sessions = make_sessions(row, live + gone)
    url = reverse("admin:apigw_ws_websocketsession_changelist")
    pks = [str(s.pk) for s in sessions]
    response = admin_client.post(
        url, {"action": "send_test_message", "_selected_action": pks}, follow=True
    )
    assert "Sent: 2; gone: 1; failed: 0." in response.content.decode()
    assert [received(local, cid) for cid in live] == [1, 1]
    message = local.table.get(live[0])
    assert message is not None
    response = admin_client.post(
        url, {"action": "disconnect", "_selected_action": pks[:1]}, follow=True
    )
    assert "Disconnected: 1" in response.content.decode()
    assert local.table.get(live[0]) is None


def test_admin_actions_need_the_delete_permission(local, row, client, django_user_model):
    staff = django_user_model.objects.create_user("staff", is_staff=True)
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(Permission.objects.get(codename="view_websocketsession"))
    client.force_login(staff)
    (session,) = make_sessions(row, local.open_sinks(1))
    url = reverse("admin:apigw_ws_websocketsession_changelist")
    client.post(url, {"action": "disconnect", "_selected_action": [str(session.pk)]})
    assert local.table.get(session.connection_id) is not None
    assert WebSocketSession.objects.filter(connected=True).count() == 1
