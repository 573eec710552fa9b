"""Recovery through the dispatch view: stamped channel sends, resume, replay, gaps.

Messages go to the testing outbox (the Management API in memory); connects and the
resume message go through the real dispatch view.
"""

import pytest

from apigw_ws.contrib.django.models import BacklogMessage, FanOut
from apigw_ws.contrib.django.page_config import client_config
from apigw_ws.contrib.django.sending import send_to_channel, send_to_user
from apigw_ws.sending import MessageNotSerializable

pytestmark = pytest.mark.django_db


def resume(conn, last):
    return conn.send({"handler": "resume", "last": last})


def seqs(messages):
    return [m["seq"] for m in messages]


def replayed(ws_outbox, conn):
    """Return (messages replayed to conn, the resumed answer), in the order they came."""
    out = ws_outbox.json(conn)
    assert out[-1]["type"] == "apigw_ws.resumed", out
    messages = [m for frame in out[:-1] for m in frame["messages"]]
    return messages, out[-1]


def test_channel_sends_are_stamped_with_id_seq_and_channel(recovery, ws_client, ws_outbox):
    conn = ws_client.connect(channel="lobby")
    send_to_channel("lobby", {"type": "chat", "text": "a"})
    send_to_channel("lobby", {"type": "chat", "text": "b", "id": 77})
    first, second = ws_outbox.json(conn)
    assert (first["seq"], first["channel"], len(first["id"])) == (1, "lobby", 32)
    assert (second["seq"], second["id"], second["text"]) == (2, "77", "b")


@pytest.mark.parametrize("data", [{"type": "chat"}, {"type": "chat", "id": "order-7"}])
def test_a_background_channel_send_has_one_id_in_the_messages_fan_out_and_backlog(
    recovery, ws_client, ws_outbox, data
):
    conns = [ws_client.connect(channel="lobby") for _ in range(2)]
    results = send_to_channel("lobby", data, background=True)
    [first], [second] = (ws_outbox.json(conn) for conn in conns)
    assert first == second
    assert (first["seq"], first["channel"]) == (1, "lobby")
    assert first["id"] == data.get("id", first["id"])
    assert FanOut.objects.get(pk=results.fanout.pk).message_id == first["id"]
    assert BacklogMessage.objects.get(channel="lobby", seq=1).message_id == first["id"]
    # A replay of it carries the same id, so a client that got it live drops the copy.
    late = ws_client.connect(channel="lobby")
    resume(late, {"lobby": 0})
    messages, _answer = replayed(ws_outbox, late)
    assert messages == [first]


def test_a_channel_send_with_an_id_too_long_to_keep_is_refused(recovery, ws_client, ws_outbox):
    conn = ws_client.connect(channel="lobby")
    with pytest.raises(MessageNotSerializable, match="at most 64 characters"):
        send_to_channel("lobby", {"id": "x" * 65})
    assert not BacklogMessage.objects.exists()
    assert ws_outbox.json(conn) == []


def test_without_the_plugin_channel_sends_are_not_stamped(ws_client, ws_outbox):
    conn = ws_client.connect(channel="lobby")
    send_to_channel("lobby", {"type": "chat", "text": "a"})
    assert ws_outbox.json(conn) == [{"type": "chat", "text": "a"}]


def test_sends_to_a_user_are_not_part_of_any_channel_backlog(
    recovery, ws_client, ws_outbox, ws_user
):
    user = ws_user(username="ann")
    conn = ws_client.connect(user=user, channel="lobby")
    send_to_user(user, {"type": "private"})
    assert ws_outbox.json(conn) == [{"type": "private"}]


def test_a_reconnecting_client_gets_what_it_missed_in_order_then_the_answer(
    recovery, ws_client, ws_outbox
):
    first = ws_client.connect(channel="lobby")
    for text in "ab":
        send_to_channel("lobby", {"type": "chat", "text": text})
    first.disconnect()
    for text in "cde":  # sent while the client is away
        send_to_channel("lobby", {"type": "chat", "text": text})
    again = ws_client.connect(channel="lobby")
    ws_outbox.clear()
    assert resume(again, {"lobby": 2}).status_code == 200
    messages, answer = replayed(ws_outbox, again)
    assert [m["text"] for m in messages] == ["c", "d", "e"]
    assert seqs(messages) == [3, 4, 5]
    assert answer == {
        "type": "apigw_ws.resumed",
        "channel": "lobby",
        "seq": 5,
        "replayed": 3,
        "gap": None,
    }


def test_replayed_messages_are_the_same_bytes_as_the_live_ones(recovery, ws_client, ws_outbox):
    conn = ws_client.connect(channel="lobby")
    send_to_channel("lobby", {"type": "chat", "text": "é ☃"})
    live = ws_outbox.to(conn)[0].json()
    ws_outbox.clear()
    resume(conn, {"lobby": 0})
    messages, _ = replayed(ws_outbox, conn)
    assert messages == [live]


def test_a_gap_past_the_count_limit_is_reported(recovery, ws_client, ws_outbox):
    recovery(MAX_MESSAGES=2)
    conn = ws_client.connect(channel="lobby")
    for i in range(5):
        send_to_channel("lobby", {"n": i})
    ws_outbox.clear()
    resume(conn, {"lobby": 1})
    messages, answer = replayed(ws_outbox, conn)
    assert seqs(messages) == [4, 5]
    assert answer["gap"] == {"from": 2, "to": 3}


def test_a_first_resume_returns_the_current_sequence_and_nothing_else(
    recovery, ws_client, ws_outbox
):
    send_to_channel("lobby", {"n": 1})
    conn = ws_client.connect(channel="lobby")
    resume(conn, {})
    assert ws_outbox.json(conn) == [
        {"type": "apigw_ws.resumed", "channel": "lobby", "seq": 1, "replayed": 0, "gap": None}
    ]


def test_resume_replays_only_the_sessions_own_channel(recovery, ws_client, ws_outbox):
    send_to_channel("staff", {"secret": True})
    conn = ws_client.connect(channel="lobby")
    resume(conn, {"staff": 0, "lobby": None})
    out = ws_outbox.json(conn)
    assert out == [
        {"type": "apigw_ws.resumed", "channel": "lobby", "seq": 0, "replayed": 0, "gap": None}
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"handler": "resume"},
        {"handler": "resume", "last": {"lobby": -3}},
        {"handler": "resume", "last": {"lobby": "x" * 50}},
    ],
)
def test_a_malformed_resume_is_a_400_with_a_generic_message(recovery, ws_client, ws_outbox, body):
    conn = ws_client.connect(channel="lobby")
    response = conn.send(body)
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid resume message"}
    assert ws_outbox.json(conn) == []


def test_a_resume_outside_any_channel_is_a_400(recovery, ws_client, ws_outbox):
    conn = ws_client.connect()
    assert resume(conn, {}).status_code == 400


def test_the_page_config_turns_recovery_on_in_the_client_while_the_plugin_is_loaded(
    recovery, settings
):
    assert client_config(None, url="ws://x/local")["recovery"] == {"handler": "resume"}
    settings.APIGW_WS = {**settings.APIGW_WS, "PLUGINS": ["apigw_ws.builtin_plugins.permissions"]}
    assert "recovery" not in client_config(None, url="ws://x/local")


def test_the_cache_store_serves_the_same_flow(recovery, redis_cache, ws_client, ws_outbox):
    recovery(STORE="cache")
    conn = ws_client.connect(channel="lobby")
    for i in range(3):
        send_to_channel("lobby", {"n": i})
    ws_outbox.clear()
    resume(conn, {"lobby": 1})
    messages, answer = replayed(ws_outbox, conn)
    assert [m["n"] for m in messages] == [1, 2]
    assert answer["seq"] == 3


def test_bad_recovery_settings_are_check_errors(settings):
    from apigw_ws.contrib.django.checks import validate

    problems = validate({"RECOVERY": {"STORE": "redis", "MAX_MESSAGES": 0, "TYPO": 1}})
    ids = sorted(p.id for p in problems)
    assert ids == ["E033", "E033", "W033"]
