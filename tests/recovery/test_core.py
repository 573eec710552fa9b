"""The Django-free part of recovery: what a resuming client is owed, and the frames."""

import json

import pytest

from apigw_ws.recovery import (
    Backlog,
    Gap,
    last_seen,
    message_id_of,
    plan_resume,
    replay_frames,
    stamped,
)
from apigw_ws.sending import MessageNotSerializable


def entries(*seqs):
    return tuple((seq, json.dumps({"seq": seq})) for seq in seqs)


def test_a_client_that_saw_nothing_gets_only_the_current_sequence():
    plan = plan_resume("lobby", None, Backlog(7, entries(6, 7)))
    assert plan.texts == []
    assert plan.answer() == {
        "type": "apigw_ws.resumed",
        "channel": "lobby",
        "seq": 7,
        "replayed": 0,
        "gap": None,
    }


def test_what_followed_the_last_seen_sequence_is_replayed_without_a_gap():
    plan = plan_resume("lobby", 4, Backlog(7, entries(5, 6, 7)))
    assert [json.loads(t)["seq"] for t in plan.texts] == [5, 6, 7]
    assert plan.gap is None
    assert plan.answer()["replayed"] == 3


def test_messages_no_longer_kept_are_reported_as_a_gap():
    plan = plan_resume("lobby", 2, Backlog(9, entries(6, 7, 8, 9)))
    assert plan.gap == Gap(3, 5)
    assert plan.answer()["gap"] == {"from": 3, "to": 5}


def test_everything_past_the_backlog_is_one_gap():
    plan = plan_resume("lobby", 2, Backlog(9, ()))
    assert plan.gap == Gap(3, 9)
    assert plan.texts == []


def test_a_client_ahead_of_the_channel_sees_a_reset():
    plan = plan_resume("lobby", 50, Backlog(3, entries(1, 2, 3)))
    assert plan.reset
    assert plan.gap is None
    assert plan.answer()["reset"] is True
    assert len(plan.texts) == 3


def test_stamping_adds_the_envelope_and_keeps_the_apps_fields():
    data = {"type": "chat", "text": "hi", "id": 41}
    assert stamped(data, channel="lobby", seq=3, message_id="41") == {
        "type": "chat",
        "text": "hi",
        "id": "41",
        "seq": 3,
        "channel": "lobby",
    }
    assert message_id_of(data) == "41"
    fresh = message_id_of({"text": "no id"})
    assert len(fresh) == 32
    assert fresh != message_id_of({"text": "no id"})
    assert message_id_of({"id": True}) != "True"
    assert message_id_of({"id": 0}) == "0"
    assert message_id_of({"id": "x" * 64}) == "x" * 64


def test_an_own_id_too_long_for_the_records_is_refused_not_cut_short():
    with pytest.raises(MessageNotSerializable, match="'id' is at most 64 characters as text"):
        message_id_of({"id": "x" * 65})


def test_replay_frames_pack_messages_in_order_within_the_size_limit():
    texts = [json.dumps({"seq": i, "text": "x" * 100}) for i in range(1, 31)]
    frames = list(replay_frames("lobby", texts, 1000))
    assert len(frames) > 1
    replayed = []
    for frame in frames:
        assert len(frame.encode()) <= 1000
        data = json.loads(frame)
        assert (data["type"], data["channel"]) == ("apigw_ws.replay", "lobby")
        replayed += [m["seq"] for m in data["messages"]]
    assert replayed == list(range(1, 31))


def test_a_message_too_large_for_a_frame_is_replayed_alone_as_it_was_sent():
    big = json.dumps({"seq": 2, "text": "y" * 990})
    texts = [json.dumps({"seq": 1}), big, json.dumps({"seq": 3})]
    frames = list(replay_frames("lobby", texts, 1000))
    assert frames[1] == big
    assert [json.loads(f)["messages"][0]["seq"] for f in (frames[0], frames[2])] == [1, 3]


@pytest.mark.parametrize(
    "body",
    [{}, {"last": []}, {"last": {"lobby": -1}}, {"last": {"lobby": "3"}}, {"last": {"lobby": 1.5}}],
)
def test_a_malformed_resume_body_is_a_value_error(body):
    with pytest.raises(ValueError, match="'last'"):
        last_seen(body, "lobby")


def test_last_seen_reads_the_channels_entry():
    assert last_seen({"last": {"lobby": 3, "other": 9}}, "lobby") == 3
    assert last_seen({"last": {"other": 9}}, "lobby") is None
    assert last_seen({"last": {"lobby": None}}, "lobby") is None
