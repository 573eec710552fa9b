"""Every test is isolated: its Management API calls never reach the network unless it opts in.

The bundled pytest plugin answers them from an in-memory outbox whether or not the test
asked for ``ws_outbox``, whatever the transport. The proof is a real HTTP server on
loopback standing in for the gateway: an isolated test's sends never reach it, an
opted-in test's do.
"""

import os
import subprocess
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from apigw_ws.contrib.django.models import WebSocketSession
from apigw_ws.sending import intercept

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


class _Counting(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args):
        pass


@pytest.fixture
def listener(settings, monkeypatch):
    """A loopback server the Management API is pointed at; ``hits`` lists what reached it."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")  # signed; never checked
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    server.daemon_threads = True
    server.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.APIGW_WS = {
        **settings.APIGW_WS,
        "ENDPOINT_URL": f"http://127.0.0.1:{server.server_address[1]}",
    }
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(params=["aiohttp", "boto3"])
def transport(request, settings):
    settings.APIGW_WS = {**settings.APIGW_WS, "SEND_TRANSPORT": request.param}
    return request.param


def test_a_test_that_never_asked_for_the_outbox_sends_nothing_to_the_network(
    listener, transport, ws_client, request
):
    conns = [ws_client.connect(channel="lobby") for _ in range(3)]
    report = WebSocketSession.objects.filter(channel_name="lobby").send_message({"n": 1})
    assert report.sent == 3
    assert conns[0].session.send_message("one")
    assert listener.hits == []
    # The outbox that answered was there all along; asking for it now shows the sends.
    outbox = request.getfixturevalue("ws_outbox")
    assert sorted(m.connection_id for m in outbox) == sorted(
        [c.connection_id for c in conns] + [conns[0].connection_id]
    )


@pytest.mark.ws_network
def test_the_marker_lets_a_tests_sends_reach_the_network(listener, transport, ws_client):
    conns = [ws_client.connect(channel="lobby") for _ in range(3)]
    report = WebSocketSession.objects.filter(channel_name="lobby").send_message({"n": 1})
    assert report.sent == 3
    assert sorted(listener.hits) == sorted(
        f"/test/@connections/{c.connection_id.replace('=', '%3D')}" for c in conns
    )


def test_the_fixture_opts_in_as_the_marker_does(listener, ws_network, ws_client):
    conn = ws_client.connect()
    assert conn.session.send_message("hi")
    assert len(listener.hits) == 1
    assert intercept.current() is None


def test_the_outbox_is_a_new_one_for_each_test(ws_outbox):
    assert list(ws_outbox) == []
    assert intercept.current() is not None


NEWCOMER_TESTS = """
import pytest
from apigw_ws.contrib.django.models import WebSocketSession

pytestmark = pytest.mark.django_db


def test_a_broadcast_to_the_real_aws_host(ws_client):
    # ENDPOINT_URL unset: the gateway's endpoint is https://testapi123.execute-api...
    for _ in range(5):
        ws_client.connect(channel="c")
    report = WebSocketSession.objects.filter(channel_name="c").send_message({"x": 1})
    assert (report.sent, report.failed) == (5, [])


@pytest.mark.ws_network
def test_both(ws_outbox):
    pass
"""


def test_a_newcomers_test_file_is_isolated_and_a_contradiction_is_a_clear_error(tmp_path):
    # A real pytest process, as a project using apigw_ws runs it: the plugin is loaded
    # through its pytest11 entry point, nothing in the test asks for isolation.
    (tmp_path / "test_newcomer.py").write_text(textwrap.dedent(NEWCOMER_TESTS))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-c",
            str(ROOT / "pyproject.toml"),
            str(tmp_path / "test_newcomer.py"),
        ],
        cwd=ROOT,
        # SQLite whatever this run uses: its test file is per process, a PostgreSQL test
        # database would be this run's own.
        env={**os.environ, "APIGW_WS_TEST_DB": "sqlite"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "1 passed" in result.stdout, result.stdout + result.stderr
    assert "1 error" in result.stdout or "1 failed" in result.stdout, result.stdout
    assert "ws_outbox captures sends, ws_network lets them reach the network" in result.stdout
