"""A background fan-out is a record: frozen recipients, checkpoints, leases, takeover.

These run the fan-out's code in the test's process against the local gateway (the
default test task backend runs a task at once); ``test_workers.py`` does it with real
worker processes that get killed.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from apigw_ws.contrib.django import fanout as engine
from apigw_ws.contrib.django.models import FanOut, FanOutChunk, FanOutStatus, WebSocketSession
from apigw_ws.sending import MessageNotSerializable, MessageTooLarge, SendReport

from .conftest import chunk_rows, counts, pks_of


class Crash(BaseException):
    """What a SIGKILL looks like from inside: nothing after it runs."""


def everyone():
    return WebSocketSession.objects.all()


def expire_leases(fanout):
    FanOutChunk.objects.filter(fanout=fanout).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )


def test_a_background_send_is_recorded_with_its_frozen_recipients_and_ends_succeeded(
    local, sessions
):
    live, gone = sessions(7, gone=2)
    results = everyone().send_message({"bg": 1}, background=True, chunk_size=4)
    fanout = FanOut.objects.with_progress().get(pk=results.fanout.pk)
    assert fanout.status == FanOutStatus.SUCCEEDED
    assert fanout.finished_at
    assert (fanout.recipients, fanout.chunk_count, fanout.chunks_done) == (9, 3, 3)
    assert (fanout.total_sent, fanout.total_gone, fanout.total_failed) == (7, 2, 0)
    chunks = chunk_rows(fanout)
    assert [c.size for c in chunks] == [4, 4, 1]
    all_pks = sorted(pks_of(live + gone).values())
    assert [pk for c in chunks for pk in c.session_ids] == all_pks
    assert [c.last_session_id for c in chunks] == [c.session_ids[-1] for c in chunks]
    assert all(c.status == FanOutStatus.SUCCEEDED and c.attempts == 1 for c in chunks)
    assert counts(local, live) == [1] * 7


def test_every_message_of_a_fan_out_carries_its_id(db, ws_outbox, ws_client):
    conns = [ws_client.connect() for _ in range(3)]
    results = everyone().send_message({"type": "news", "n": 1}, background=True)
    message_id = results.fanout.message_id
    assert len(message_id) == 32
    for conn in conns:
        assert ws_outbox.json(conn) == [{"type": "news", "n": 1, "id": message_id}]


@pytest.mark.parametrize(
    ("own", "recorded"),
    [("order-7-shipped", "order-7-shipped"), (41, "41"), ("x" * 64, "x" * 64), (0, "0")],
)
def test_a_message_with_its_own_id_keeps_it_and_is_sent_as_it_was(
    db, ws_outbox, ws_client, own, recorded
):
    conn = ws_client.connect()
    results = everyone().send_message({"id": own, "n": 1}, background=True)
    assert results.fanout.message_id == recorded
    assert ws_outbox.json(conn) == [{"id": own, "n": 1}]


@pytest.mark.parametrize("unusable", [None, "", False, True])
def test_an_empty_or_boolean_id_is_replaced_where_it_stands(db, ws_outbox, ws_client, unusable):
    conn = ws_client.connect()
    results = everyone().send_message({"a": 1, "id": unusable, "b": 2}, background=True)
    message_id = results.fanout.message_id
    assert len(message_id) == 32
    assert ws_outbox.json(conn) == [{"a": 1, "id": message_id, "b": 2}]
    assert list(ws_outbox.json(conn)[0]) == ["a", "id", "b"]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("plain text", "JSON object"),
        ([1, 2], "JSON object"),
        (5, "JSON object"),
        ({"id": "x" * 65}, "'id' is at most 64 characters as text, not 65"),
        ({"id": 10**64}, "'id' is at most 64 characters as text, not 65"),
    ],
)
def test_a_background_send_refuses_what_cannot_carry_an_id(db, data, problem):
    with pytest.raises(MessageNotSerializable, match=problem):
        everyone().send_message(data, background=True)
    assert not FanOut.objects.exists()


def test_the_id_is_counted_against_the_size_limit(db, settings):
    settings.APIGW_WS = {**settings.APIGW_WS, "MAX_MESSAGE_BYTES": 40}
    with pytest.raises(MessageTooLarge):
        everyone().send_message({"x": "y" * 20}, background=True)
    assert not FanOut.objects.exists()


def test_stamping_leaves_the_callers_json_as_it_was():
    _id, text = engine.stamp('{ "a": [1, 2.50] }  ')
    assert text == f'{{ "a": [1, 2.50],"id":"{_id}"}}'
    _id, text = engine.stamp("{}")
    assert text == f'{{"id":"{_id}"}}'
    assert engine.stamp('{"id": 7,  "a": 2.50}') == ("7", '{"id": 7,  "a": 2.50}')


def test_a_fan_out_without_connected_sessions_succeeds_at_once(db):
    results = everyone().send_message({"n": 1}, background=True)
    assert list(results) == []
    assert results.fanout.status == FanOutStatus.SUCCEEDED
    assert results.fanout.recipients == 0


def test_a_worker_checkpoints_every_few_hundred_recipients(local, sessions, monkeypatch):
    monkeypatch.setattr(engine, "CHECKPOINT_EVERY", 3)
    seen = []
    real = engine.checkpoint

    def spy(chunk, owner, last, sent, *, final):
        seen.append((last, sent.attempted, final))
        return real(chunk, owner, last, sent, final=final)

    monkeypatch.setattr(engine, "checkpoint", spy)
    live, _ = sessions(8)
    everyone().send_message({"n": 1}, background=True, chunk_size=100)
    pks = sorted(pks_of(live).values())
    assert seen == [(pks[2], 3, False), (pks[5], 3, False), (pks[7], 2, True)]


def crash_after_checkpoints(monkeypatch, allowed):
    """Make the worker die right after sending the slice after ``allowed`` checkpoints."""
    real = engine.checkpoint
    done = []

    def dying(chunk, owner, last, sent, *, final):
        if len(done) == allowed:
            raise Crash()
        done.append(last)
        return real(chunk, owner, last, sent, final=final)

    monkeypatch.setattr(engine, "checkpoint", dying)
    return lambda: monkeypatch.setattr(engine, "checkpoint", real)


def test_a_chunk_whose_worker_died_is_resumed_after_its_checkpoint(local, sessions, monkeypatch):
    monkeypatch.setattr(engine, "CHECKPOINT_EVERY", 3)
    live, gone = sessions(10, gone=1)
    fanout = engine.create_fanout(everyone(), '{"n": 1}', chunk_size=100)
    revive = crash_after_checkpoints(monkeypatch, allowed=2)
    with pytest.raises(Crash):
        engine.run_fanout(fanout.pk)
    revive()
    (chunk,) = chunk_rows(fanout)
    pks = sorted(pks_of(live + gone).values())
    assert (chunk.status, chunk.last_session_id, chunk.sent) == ("RUNNING", pks[5], 6)

    # Another worker: the lease is still live, so it may not take the chunk yet.
    assert engine.claim(fanout, "second") is None
    expire_leases(fanout)
    result = engine.run_fanout(fanout.pk)

    assert result["chunks"] == [0]
    assert result["sent"] == 4
    (chunk,) = chunk_rows(fanout)
    assert (chunk.status, chunk.attempts, chunk.sent, chunk.gone) == ("SUCCEEDED", 2, 10, 1)
    got = dict(zip(live, counts(local, live), strict=True))
    by_pk = pks_of(live)
    # Twice only for the slice sent after the last checkpoint (pks[6:9]); once for the rest.
    assert {cid for cid, n in got.items() if n == 2} == {
        cid for cid in live if pks[5] < by_pk[cid] <= pks[8]
    }
    assert set(got.values()) == {1, 2}
    assert FanOut.objects.get(pk=fanout.pk).status == FanOutStatus.SUCCEEDED


def test_a_worker_that_lost_its_lease_stops_and_its_slice_is_not_counted(local, sessions):
    sessions(3)
    fanout = engine.create_fanout(everyone(), '{"n": 1}', chunk_size=100)
    chunk = engine.claim(fanout, "slow")
    expire_leases(fanout)
    assert engine.claim(fanout, "fast").lease_owner == "fast"
    assert not engine.checkpoint(
        chunk, "slow", chunk.session_ids[0], SendReport(sent=1), final=False
    )
    row = FanOutChunk.objects.get(pk=chunk.pk)
    assert (row.lease_owner, row.sent, row.last_session_id) == ("fast", 0, None)


def test_a_chunk_that_keeps_killing_its_workers_is_given_up_and_the_fan_out_failed(
    local, sessions, monkeypatch
):
    sessions(2)
    fanout = engine.create_fanout(everyone(), '{"n": 1}', chunk_size=100)
    for attempt in range(engine.MAX_ATTEMPTS):
        assert engine.claim(fanout, f"w{attempt}") is not None
        expire_leases(fanout)
    assert engine.claim(fanout, "last") is None
    (chunk,) = chunk_rows(fanout)
    assert (chunk.status, chunk.attempts) == (FanOutStatus.FAILED, engine.MAX_ATTEMPTS)
    assert FanOut.objects.get(pk=fanout.pk).status == FanOutStatus.FAILED


def test_the_sweep_restarts_a_fan_out_left_with_no_live_worker(local, sessions, monkeypatch):
    live, _ = sessions(4)
    fanout = engine.create_fanout(everyone(), '{"n": 1}', chunk_size=2)
    engine.claim(fanout, "dead", prefer=0)
    assert engine.sweep() == 0  # its lease is live: the worker may be fine
    expire_leases(fanout)
    assert engine.sweep() == 1  # the immediate test backend runs the task at once
    assert FanOut.objects.get(pk=fanout.pk).status == FanOutStatus.SUCCEEDED
    assert counts(local, live) == [1] * 4


def test_a_new_background_send_sweeps_for_older_orphans(local, sessions):
    live, _ = sessions(2)
    orphan = engine.create_fanout(everyone(), '{"n": 1}', chunk_size=10)
    FanOut.objects.filter(pk=orphan.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    everyone().send_message({"n": 2}, background=True)
    assert FanOut.objects.get(pk=orphan.pk).status == FanOutStatus.SUCCEEDED
    assert counts(local, live) == [2, 2]


def test_cancel_stops_a_fan_out_and_resume_sends_the_rest(local, sessions, monkeypatch):
    monkeypatch.setattr(engine, "CHECKPOINT_EVERY", 2)
    live, _ = sessions(6)
    fanout = engine.create_fanout(everyone(), '{"n": 1}', chunk_size=100)
    chunk = engine.claim(fanout, "w")
    real_send = engine.send_now

    def send_then_cancel(qs, payload):
        report = real_send(qs, payload)
        engine.cancel(FanOut.objects.get(pk=fanout.pk))
        return report

    monkeypatch.setattr(engine, "send_now", send_then_cancel)
    engine.run_chunk(chunk, "w", fanout.payload.encode(), SendReport())
    monkeypatch.setattr(engine, "send_now", real_send)
    (row,) = chunk_rows(fanout)
    assert (row.status, row.sent) == (FanOutStatus.CANCELLED, 2)  # the slice in flight counted
    assert FanOut.objects.get(pk=fanout.pk).status == FanOutStatus.CANCELLED
    with pytest.raises(engine.FanOutError, match="cancelled"):
        engine.cancel(FanOut.objects.get(pk=fanout.pk))

    engine.resume(FanOut.objects.get(pk=fanout.pk))
    (row,) = chunk_rows(fanout)
    assert (row.status, row.sent) == (FanOutStatus.SUCCEEDED, 6)
    assert counts(local, live) == [1] * 6
    with pytest.raises(engine.FanOutError, match="succeeded"):
        engine.resume(FanOut.objects.get(pk=fanout.pk))


def test_a_session_that_disconnected_after_enqueueing_is_skipped(local, sessions):
    live, _ = sessions(3)
    fanout = engine.create_fanout(everyone(), '{"n": 1}', chunk_size=10)
    WebSocketSession.objects.filter(connection_id=live[0]).update(connected=False)
    engine.run_fanout(fanout.pk)
    assert counts(local, live) == [0, 1, 1]
    (row,) = chunk_rows(fanout)
    assert (row.sent, row.status) == (2, FanOutStatus.SUCCEEDED)


def test_a_task_for_a_deleted_fan_out_does_nothing(db):
    assert engine.run_fanout(12345)["chunks"] == []


def test_past_its_budget_a_task_leaves_other_chunks_to_their_own_tasks(
    local, sessions, monkeypatch
):
    monkeypatch.setattr(engine, "TASK_BUDGET", 0.0)
    live, _ = sessions(5)
    results = everyone().send_message({"n": 1}, background=True, chunk_size=2)
    assert [r.return_value["chunks"] for r in results] == [[0], [1], [2]]
    assert counts(local, live) == [1] * 5


def test_a_watcher_past_its_budget_hands_the_watch_to_a_new_task(local, sessions, monkeypatch):
    sessions(2)
    fanout = engine.create_fanout(everyone(), '{"n": 1}', chunk_size=10)
    engine.claim(fanout, "alive-elsewhere")
    handed = []
    monkeypatch.setattr(engine, "enqueue", lambda f, numbers: handed.append((f.pk, numbers)))
    assert engine.watch(fanout, "me", deadline=0.0) is None
    assert handed == [(fanout.pk, [None])]
    assert FanOut.objects.get(pk=fanout.pk).watcher_expires_at is None


def test_a_message_id_may_be_sent_again(db, ws_outbox, ws_client):
    conn = ws_client.connect()
    for _ in range(2):
        everyone().send_message({"id": "retry-1"}, background=True)
    assert FanOut.objects.filter(message_id="retry-1").count() == 2
    assert ws_outbox.json(conn) == [{"id": "retry-1"}] * 2
