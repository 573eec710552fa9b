"""Sending from Django: querysets, helpers, gone bookkeeping, transactions, background tasks."""

import datetime
import math

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apigw_ws import hookimpl
from apigw_ws.contrib.django import sending
from apigw_ws.contrib.django.models import ApiGateway, WebSocketSession
from apigw_ws.contrib.django.sending import delivery
from apigw_ws.errors import ConfigurationError, ManagementApiForbidden, SendError
from apigw_ws.sending import MessageNotSerializable, MessageTooLarge

from .conftest import connected_ids, make_sessions, received, unknown_ids

pytestmark = pytest.mark.django_db


def test_queryset_send_message_reports_and_marks_gone_sessions_in_one_update(local, row):
    live, gone = local.open_sinks(6), unknown_ids(4)
    make_sessions(row, live + gone)
    with CaptureQueriesContext(connection) as queries:
        report = WebSocketSession.objects.all().send_message({"hi": 1})
    assert report.sent == 6
    assert sorted(report.gone) == sorted(gone)
    assert [received(local, cid) for cid in live] == [1] * 6
    assert connected_ids() == set(live)
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1


def test_disconnected_sessions_are_not_sent_to(local, row):
    (cid,) = local.open_sinks(1)
    make_sessions(row, [cid], connected=False)
    report = WebSocketSession.objects.all().send_message("x")
    assert report.attempted == 0
    assert received(local, cid) == 0


def test_a_session_whose_connect_may_be_in_flight_is_not_marked_gone(local, row):
    (young,) = unknown_ids(1)
    make_sessions(row, [young], age=datetime.timedelta(seconds=1))
    report = WebSocketSession.objects.all().send_message("x")
    assert report.gone == [young]
    assert connected_ids() == {young}


def test_the_sessions_gone_hook_gets_the_marked_ids_once_per_fan_out(local, row, ws_plugins):
    calls = []

    class Listener:
        @hookimpl
        def apigw_ws_on_sessions_gone(self, connection_ids, source):
            calls.append((sorted(connection_ids), source))

    ws_plugins.add(Listener(), name="listener")
    gone, young = unknown_ids(3), unknown_ids(1)
    make_sessions(row, gone)
    make_sessions(row, young, age=datetime.timedelta(seconds=1))
    WebSocketSession.objects.all().send_message("x")
    assert calls == [(sorted(gone), "send")]


def test_a_raising_gone_hook_is_logged_and_the_sessions_stay_marked(local, row, ws_plugins):
    class Broken:
        @hookimpl
        def apigw_ws_on_sessions_gone(self, connection_ids, source):
            raise RuntimeError("boom")

    ws_plugins.add(Broken(), name="broken")
    make_sessions(row, unknown_ids(2))
    assert len(WebSocketSession.objects.all().send_message("x").gone) == 2
    assert connected_ids() == set()


def test_user_channel_and_broadcast_helpers_reach_only_their_sessions(
    local, row, django_user_model
):
    alice = django_user_model.objects.create_user("alice")
    other = ApiGateway.objects.create(api_name="other", api_id="other", stage_name="local")
    a1, a2, lobby, elsewhere = (local.open_sinks(1)[0] for _ in range(4))
    make_sessions(row, [a1, a2], user=alice)
    make_sessions(row, [lobby], channel="lobby")
    make_sessions(other, [elsewhere], channel="lobby")

    assert sending.send_to_user(alice, "u").sent == 2
    assert [received(local, c) for c in (a1, a2, lobby, elsewhere)] == [1, 1, 0, 0]
    assert sending.send_to_channel("lobby", "c", gateway=row).sent == 1
    assert [received(local, c) for c in (a1, a2, lobby, elsewhere)] == [1, 1, 1, 0]
    assert sending.send_to_channel("lobby", "c").sent == 2
    assert sending.broadcast("b", gateway=other).sent == 1
    assert sending.broadcast("b").sent == 4
    assert [received(local, c) for c in (a1, a2, lobby, elsewhere)] == [2, 2, 3, 3]


def test_session_send_message_is_true_when_sent_and_false_and_marked_when_gone(local, row):
    (live,) = local.open_sinks(1)
    (gone,) = unknown_ids(1)
    s_live, s_gone = make_sessions(row, [live, gone])
    assert s_live.send_message({"n": 1}) is True
    assert received(local, live) == 1
    assert s_gone.send_message({"n": 1}) is False
    assert s_gone.connected is False
    assert connected_ids() == {live}


def test_unicast_403_raises_a_configuration_error_with_the_iam_hint(local, row):
    wrong = ApiGateway.objects.create(api_name="w", api_id="wrong", stage_name="other")
    (session,) = make_sessions(wrong, local.open_sinks(1))
    with pytest.raises(ManagementApiForbidden, match="execute-api:ManageConnections"):
        session.send_message("x")
    assert isinstance(ManagementApiForbidden("x"), ConfigurationError)


def test_unicast_server_errors_raise_send_error_with_the_report(start_gateway, row, settings):
    failing = start_gateway(error_rate=1.0)
    settings.APIGW_WS = {**settings.APIGW_WS, "ENDPOINT_URL": failing.endpoint_url}
    (session,) = make_sessions(row, failing.open_sinks(1))
    with pytest.raises(SendError) as raised:
        session.send_message("x")
    assert raised.value.report.failed[0].status == 500
    assert connected_ids() == {session.connection_id}  # a failure is not gone


def test_data_is_checked_before_any_session_is_read_or_sent_to(local, row, settings):
    (cid,) = local.open_sinks(1)
    make_sessions(row, [cid])
    settings.APIGW_WS = {**settings.APIGW_WS, "MAX_MESSAGE_BYTES": 10}
    with CaptureQueriesContext(connection) as queries, pytest.raises(MessageTooLarge):
        WebSocketSession.objects.all().send_message("x" * 11)
    with pytest.raises(MessageNotSerializable):
        WebSocketSession.objects.all().send_message({"when": object()})
    assert queries.captured_queries == []
    assert received(local, cid) == 0


def test_gateways_map_to_their_own_endpoints_and_missing_ones_are_failures(row, settings, gateway):
    settings.APIGW_WS = {**settings.APIGW_WS, "ENDPOINT_URL": None}
    eu = ApiGateway(api_name="eu", api_id="abc123", stage_name="prod", region="eu-west-1")
    us = ApiGateway(api_name="us", api_id="def456", stage_name="dev", region="")
    assert sending.endpoint_for(eu).url == "https://abc123.execute-api.eu-west-1.amazonaws.com/prod"
    assert sending.endpoint_for(us).url == "https://def456.execute-api.us-east-1.amazonaws.com/dev"
    assert sending.endpoint_for(us).region == "us-east-1"  # APIGW_WS["REGION"]
    unknown = ApiGateway.objects.create(api_name="unprovisioned", api_id="", stage_name="x")
    assert sending.endpoint_for(unknown) is None
    (cid,) = unknown_ids(1)
    make_sessions(unknown, [cid])
    report = WebSocketSession.objects.all().send_message("x")
    assert "no Management API endpoint" in report.failed[0].error
    assert connected_ids() == {cid}  # nothing marked gone for a configuration problem


def test_on_commit_defers_the_send_until_the_transaction_commits(
    local, row, django_capture_on_commit_callbacks
):
    (cid,) = local.open_sinks(1)
    make_sessions(row, [cid])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            assert WebSocketSession.objects.all().send_message("x", on_commit=True) is None
        assert received(local, cid) == 0
    assert len(callbacks) == 1
    assert received(local, cid) == 1


def test_a_rolled_back_transaction_sends_nothing(local, row, django_capture_on_commit_callbacks):
    (cid,) = local.open_sinks(1)
    make_sessions(row, [cid])

    def send_then_fail():
        with transaction.atomic():
            WebSocketSession.objects.all().send_message("x", on_commit=True)
            raise RuntimeError("rolled back")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        send_then_fail()
    assert callbacks == []
    assert received(local, cid) == 0


def test_background_send_enqueues_one_task_per_chunk(local, row):
    live, gone = local.open_sinks(7), unknown_ids(2)
    make_sessions(row, live + gone)
    results = WebSocketSession.objects.all().send_message({"bg": 1}, background=True, chunk_size=4)
    assert len(results) == math.ceil(9 / 4)
    # The default test backend is the immediate one: the tasks have run.
    reports = [r.return_value for r in results]
    assert sum(r["sent"] for r in reports) == 7
    assert sorted(g for r in reports for g in r["gone"]) == sorted(gone)
    assert [received(local, cid) for cid in live] == [1] * 7
    assert connected_ids() == set(live)


def test_background_send_refuses_binary_data_before_enqueueing(local, row):
    make_sessions(row, local.open_sinks(1))
    with pytest.raises(MessageNotSerializable, match="binary"):
        WebSocketSession.objects.all().send_message(b"\xff", background=True)


def test_close_deletes_the_connection_and_is_false_once_gone(local, row):
    (cid,) = local.open_sinks(1)
    (session,) = make_sessions(row, [cid])
    assert session.close() is True
    assert local.table.get(cid) is None
    assert session.close() is False


def test_recipients_are_read_in_chunks_not_all_at_once(local, row, monkeypatch):
    monkeypatch.setattr(delivery, "READ_CHUNK", 3)
    make_sessions(row, local.open_sinks(7))
    with CaptureQueriesContext(connection) as queries:
        found = list(sending.recipients(WebSocketSession.objects.all()))
    assert len(found) == 7
    selects = [q for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    # 3 pages of rows (3 + 3 + 1) and an empty one, then one gateway lookup.
    assert len(selects) == 4 + 1


def test_a_sliced_queryset_sends_to_the_connected_sessions_of_its_slice_only(local, row):
    live, dead = local.open_sinks(3), local.open_sinks(2)
    make_sessions(row, live)
    make_sessions(row, dead, connected=False)
    first_four = WebSocketSession.objects.order_by("pk")[:4]
    report = first_four.send_message({"slice": 1})
    assert report.sent == 3
    assert [received(local, cid) for cid in live + dead] == [1, 1, 1, 0, 0]
