"""Background fan-out for real: the database task backend and a worker process, on PostgreSQL."""

import os
import subprocess
import sys

import pytest
from django.db import connection

from apigw_ws.contrib.django.models import ApiGateway, WebSocketSession
from tests.conftest import require_service

from .conftest import received, unknown_ids
from .test_django import connected_ids, make_sessions

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres():
    require_service("PostgreSQL", os.environ.get("PGHOST", "127.0.0.1"), 5432)
    assert connection.vendor == "postgresql"


def test_a_db_worker_process_runs_the_chunked_send_tasks(
    postgres, transactional_db, gateway, settings
):
    from django_tasks_db.models import DBTaskResult

    settings.APIGW_WS = {
        **settings.APIGW_WS,
        "ENDPOINT_URL": gateway.endpoint_url,
        "TASK_BACKEND": "database",
    }
    row = ApiGateway.objects.create(api_name="local", api_id="local", stage_name="local")
    live, gone = gateway.open_sinks(25), unknown_ids(5)
    make_sessions(row, live + gone)

    results = WebSocketSession.objects.all().send_message(
        {"bg": True}, background=True, chunk_size=10
    )
    assert len(results) == 3
    assert [received(gateway, cid) for cid in live] == [0] * 25  # nothing sent yet: queued

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.sending.worker_settings",
        "APIGW_WS_TEST_DB": "postgres",
        "PGDATABASE": connection.settings_dict["NAME"],
        "APIGW_WS_WORKER_ENDPOINT_URL": gateway.endpoint_url,
    }
    worker = subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "db_worker",
            "--backend",
            "database",
            "--batch",
            "--no-startup-delay",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    statuses = set(DBTaskResult.objects.values_list("status", flat=True))
    assert statuses == {"SUCCESSFUL"}, worker.stderr[-2000:]
    assert [received(gateway, cid) for cid in live] == [1] * 25
    assert connected_ids() == set(live)
    reports = DBTaskResult.objects.values_list("return_value", flat=True)
    assert sum(report["sent"] for report in reports) == 25
    assert sorted(g for report in reports for g in report["gone"]) == sorted(gone)
