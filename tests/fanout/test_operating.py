"""What an operator sees and does: ``ws_fanouts``, the admin, ``ws_cleanup``."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apigw_ws.contrib.django import fanout as engine
from apigw_ws.contrib.django.models import FanOut, FanOutChunk, FanOutStatus, WebSocketSession

from .conftest import counts


def run(*args):
    out = StringIO()
    call_command("ws_fanouts", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def half_done(local, sessions, monkeypatch):
    """A fan-out of 3 chunks: one sent, one whose worker died after a checkpoint, one queued."""
    monkeypatch.setattr(engine, "CHECKPOINT_EVERY", 2)
    live, _ = sessions(5, gone=1)
    fanout = engine.create_fanout(WebSocketSession.objects.all(), '{"n": 1}', chunk_size=2)
    first = engine.claim(fanout, "host:1:a", prefer=0)
    engine.run_chunk(first, "host:1:a", fanout.payload.encode(), engine.SendReport())
    dead = engine.claim(fanout, "host:2:b", prefer=1)
    engine.checkpoint(dead, "host:2:b", dead.session_ids[0], engine.SendReport(sent=1), final=False)
    return fanout, live


def test_list_shows_status_and_progress_as_a_table_and_as_json(half_done):
    fanout, _ = half_done
    table = run("list")
    assert table.splitlines()[0].split() == [
        "ID", "STATUS", "CREATED", "RECIPIENTS", "SENT", "GONE", "FAILED", "PENDING",
        "CHUNKS", "DONE", "MESSAGE", "ID",
    ]  # fmt: skip
    assert table.splitlines()[1].split()[:2] == [str(fanout.pk), "RUNNING"]
    (row,) = json.loads(run("list", "--json"))
    assert row["status"] == "RUNNING"
    assert (row["recipients"], row["sent"], row["gone"], row["pending"]) == (6, 3, 0, 3)
    assert row["chunks_done"] == "1/3"
    assert json.loads(run("list", "--status", "SUCCEEDED", "--json")) == []


def test_show_reports_each_chunks_checkpoint_and_lease(half_done):
    fanout, _ = half_done
    shown = json.loads(run("show", str(fanout.pk), "--json"))
    first, dead, queued = shown["chunks"]
    assert (first["status"], first["sent"], first["pending"]) == ("SUCCEEDED", 2, 0)
    assert (dead["status"], dead["lease_owner"], dead["pending"]) == ("RUNNING", "host:2:b", 1)
    assert dead["last_session_id"] == FanOutChunk.objects.get(number=1).session_ids[0]
    assert dead["lease"].endswith("s left")
    assert (queued["status"], queued["pending"], queued["attempts"]) == ("PENDING", 2, 0)
    text = run("show", str(fanout.pk))
    assert "CHECKPOINT" in text
    assert "host:2:b" in text


def test_resume_sends_what_a_dead_worker_left(half_done, local):
    fanout, live = half_done
    FanOutChunk.objects.filter(number=1).update(lease_expires_at=timezone.now() - timedelta(1))
    assert "enqueued 2 task(s)" in run("resume", str(fanout.pk))
    shown = json.loads(run("show", str(fanout.pk), "--json"))
    assert (shown["status"], shown["sent"], shown["gone"], shown["pending"]) == (
        "SUCCEEDED",
        5,
        1,
        0,
    )
    assert max(counts(local, live)) == 1  # the dead worker's checkpointed session: not again


def test_cancel_stops_the_fan_out_and_bad_ids_are_clear_errors(half_done):
    fanout, _ = half_done
    assert "2 chunk(s) stopped" in run("cancel", str(fanout.pk))
    assert FanOut.objects.get(pk=fanout.pk).status == FanOutStatus.CANCELLED
    with pytest.raises(CommandError, match="nothing to cancel"):
        run("cancel", str(fanout.pk))
    with pytest.raises(CommandError, match="no fan-out with id 999"):
        run("show", "999")
    with pytest.raises(CommandError, match="--limit"):
        run("list", "--limit", "0")


def test_sweep_enqueues_fan_outs_left_without_a_worker(half_done):
    fanout, _ = half_done
    FanOutChunk.objects.filter(number=1).update(lease_expires_at=timezone.now() - timedelta(1))
    assert "enqueued 1 task(s)" in run("sweep")
    assert FanOut.objects.get(pk=fanout.pk).status == FanOutStatus.SUCCEEDED


def test_list_without_fan_outs_says_so(db):
    assert run().strip() == "no background fan-outs"


def test_the_admin_shows_fan_outs_read_only(half_done, admin_client):
    fanout, _ = half_done
    listing = admin_client.get("/admin/apigw_ws/fanout/").content.decode()
    assert fanout.message_id in listing
    assert "1/3" in listing
    detail = admin_client.get(f"/admin/apigw_ws/fanout/{fanout.pk}/change/")
    assert detail.status_code == 200
    assert "host:2:b" in detail.content.decode()
    assert admin_client.get("/admin/apigw_ws/fanout/add/").status_code == 403
    before = FanOut.objects.values().get()
    admin_client.post(f"/admin/apigw_ws/fanout/{fanout.pk}/change/", {"status": "SUCCEEDED"})
    admin_client.post(f"/admin/apigw_ws/fanout/{fanout.pk}/delete/", {"post": "yes"})
    assert FanOut.objects.values().get() == before


def test_ws_cleanup_deletes_fan_outs_finished_more_than_a_week_ago(local, sessions):
    sessions(2)
    old, recent = (
        WebSocketSession.objects.all().send_message({"n": 1}, background=True).fanout
        for _ in range(2)
    )
    running = engine.create_fanout(WebSocketSession.objects.all(), '{"n": 1}', chunk_size=10)
    FanOut.objects.filter(pk__in=[old.pk, running.pk]).update(
        finished_at=timezone.now() - timedelta(days=8)
    )
    out = StringIO()
    call_command("ws_cleanup", "--only", "fanouts", "--json", stdout=out)
    assert json.loads(out.getvalue()) == [{"table": "fanouts", "deleted": 1}]
    assert set(FanOut.objects.values_list("pk", flat=True)) == {recent.pk, running.pk}
    assert not FanOutChunk.objects.filter(fanout_id=old.pk).exists()
