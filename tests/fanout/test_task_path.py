"""Workers find the fan-out's task at the path queued tasks and settings hold."""

from django.utils.module_loading import import_string

from apigw_ws.contrib.django import fanout, tasks

PATH = "apigw_ws.contrib.django.tasks.run_fanout"


def test_the_fanout_task_is_queued_under_its_path_in_tasks_and_a_worker_imports_that_task():
    task = fanout.run_fanout_task()
    assert task.module_path == PATH  # what a queued task records
    assert import_string(PATH) is task is tasks.run_fanout  # what a worker imports


def test_the_task_runs_the_fanout(monkeypatch):
    ran = []
    monkeypatch.setattr(fanout, "run_fanout", lambda *args: ran.append(args) or {"ok": 1})
    assert fanout.run_fanout_task().func(12, 3) == {"ok": 1}
    assert ran == [(12, 3)]
