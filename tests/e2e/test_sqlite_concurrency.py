"""The example project's own settings hold 20 concurrent connects on its SQLite file.

Django's SQLite defaults (deferred transactions, no WAL) answer most of 20 simultaneous
connects with 500 ``database is locked``: each connect transaction reads (the token),
then writes. The example project ships WAL, ``transaction_mode: IMMEDIATE`` and a busy
timeout; this runs it as ``scripts/demo`` does (``manage.py runserver``, a real SQLite
file, real threads posting real HTTP) and wants every connect open.
"""

import http.client
import json
import subprocess
import sys
import threading
import uuid

import pytest

from apigw_ws.testing import new_connection_id
from apigw_ws.testing.client import gateway_headers

from .conftest import PROJECT, Demo

CLIENTS = 20
SECRET = "load-test-secret-" + "x" * 32

#: Run in the example project: N users, each logged in, each with one connect token.
TOKENS_SCRIPT = """
import json, sys
from types import SimpleNamespace
import django
django.setup()
from django.contrib.auth import get_user_model, login
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from apigw_ws.contrib.django.token_backend import DatabaseTokenBackend

out = []
for i in range(int(sys.argv[1])):
    user = get_user_model().objects.create_user(f"load{i}-{sys.argv[2]}", password="x")
    request = RequestFactory().get("/")
    request.session, request.user = SessionStore(), user
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.save()
    issued = DatabaseTokenBackend().issue(request)
    out.append([request.session.session_key, issued.token])
print(json.dumps(out))
"""


class DjangoOnly(Demo):
    """The example project's ``runserver`` alone: connects need no gateway process."""

    def start(self):
        self.start_django()

    def tokens(self, count):
        done = subprocess.run(
            [sys.executable, "-c", TOKENS_SCRIPT, str(count), uuid.uuid4().hex[:8]],
            cwd=PROJECT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    server = DjangoOnly(tmp_path_factory.mktemp("sqlite-load"))
    server.env["APIGW_WS_GATEWAY_SECRET"] = SECRET
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _connect(port, session_key, token, secret):
    host = f"127.0.0.1:{port}"
    headers = gateway_headers(
        "connect",
        api_id="local",
        connection_id=new_connection_id(),
        secret=secret,
        host=host,
        origin=f"http://{host}",
    )
    headers["Cookie"] = f"sessionid={session_key}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", f"/ws/connect?channel=lobby&ws_token={token}", b"", headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_twenty_concurrent_token_connects_all_open_on_the_example_settings(project):
    pairs = project.tokens(CLIENTS)
    start = threading.Barrier(CLIENTS)
    results = []

    def client(session_key, token):
        start.wait(timeout=60)
        results.append(_connect(project.django_port, session_key, token, SECRET))

    threads = [threading.Thread(target=client, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * CLIENTS, [r for r in results if r[0] != 200][:3]
    assert "database is locked" not in project.log("django")
