"""Fixtures for the local gateway's tests: real sockets, a live Django, a log to wait on."""

import asyncio
import logging
import threading
from contextlib import ExitStack

import pytest

from apigw_ws import hookimpl
from apigw_ws.devgateway import run_in_thread

API_ID = "devgw12345"
STAGE = "local"
#: A short integration timeout for the tests of a slow Django, long for everything else.
TIMEOUT = 20


def run(coro, timeout=TIMEOUT):
    """Run a test scenario on a fresh event loop; a hang fails the test instead of CI."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


class GatewayLog(logging.Handler):
    """The gateway's log lines, and a way to wait for one to appear."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []
        self._changed = threading.Condition()

    def emit(self, record):
        with self._changed:
            self.lines.append(record.getMessage())
            self._changed.notify_all()

    def find(self, *fragments):
        return [line for line in self.lines if all(f in line for f in fragments)]

    def wait_for(self, *fragments, count=1, timeout=TIMEOUT):
        """Return the first ``count`` lines containing every fragment, waiting for them."""
        with self._changed:
            found = self._changed.wait_for(lambda: len(self.find(*fragments)) >= count, timeout)
        assert found, f"no {count} log lines with {fragments}; last lines: {self.lines[-10:]}"
        return self.find(*fragments)[:count]


@pytest.fixture
def gateway_log():
    logger = logging.getLogger("apigw_ws.devgateway")
    handler, level = GatewayLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def aws_credentials(monkeypatch):
    """Any credentials: boto3 signs requests, the local gateway never checks them."""
    from apigw_ws.sending import management_client

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    management_client.cache_clear()
    yield
    management_client.cache_clear()


@pytest.fixture(scope="session")
def live_django(django_db_setup):
    """A live Django (``tests.urls``) whose threads each get their own database connection.

    pytest-django's ``live_server`` is often created before the test database: on SQLite
    it then hands every server thread the one in-memory connection, and concurrent
    requests crash the process. This one starts after ``django_db_setup``, once the test
    database is a file (see ``tests/settings.py``).
    """
    from django.db import connection
    from pytest_django.live_server_helper import LiveServer

    assert not (connection.vendor == "sqlite" and connection.is_in_memory_db())
    server = LiveServer("localhost")
    yield server
    server.stop()


@pytest.fixture
def gateway_row(transactional_db, live_django):
    from apigw_ws.contrib.django.models import ApiGateway

    # Creating the row also clears the view's gateway cache (post_save).
    return ApiGateway.objects.create(
        api_name="local",
        api_id=API_ID,
        stage_name=STAGE,
        region="us-east-1",
        target_base_endpoint=f"{live_django.url}/ws/",
    )


@pytest.fixture
def start_gateway(gateway_row, settings, aws_credentials, gateway_log, ws_network):
    """Return ``start(**options)``: a gateway in front of the live server, on a free port.

    It runs in its own thread; the test's settings point ``ENDPOINT_URL`` at it, so
    ``ctx.reply()`` and ``send_message()`` go through it. It stops before the database
    is flushed, so every ``$disconnect`` reaches Django.
    """
    from apigw_ws.contrib.django.runtime import get_plugins

    stack = ExitStack()

    def start(**options):
        options = {
            "target": gateway_row.target_base_endpoint,
            "api_id": API_ID,
            "stage": STAGE,
            "port": 0,
            "secret": settings.TEST_GATEWAY_SECRET,
            "routes": {"$default", *get_plugins().registry.routes()},
            # Bounded, so that PostgreSQL's connection limit holds under 500 sockets.
            "max_forward_connections": 16,
            **options,
        }
        gateway = stack.enter_context(run_in_thread(**options))
        settings.APIGW_WS = {
            **settings.APIGW_WS,
            "ENDPOINT_URL": gateway.endpoint_url,
            "RATE_LIMIT": {"MAX_ATTEMPTS": 100_000, "WINDOW_SECONDS": 60},
        }
        return gateway

    with stack:
        yield start


class DjangoSide:
    """A plugin the tests load into the live Django: it records and can hold requests."""

    def __init__(self):
        self.lock = threading.Lock()
        self.disconnected = {}
        self.connect_headers = {}
        self.connect_started = threading.Event()
        self.hold_connect = None  # a threading.Event that connects wait for, when set
        self.refuse_connect = False
        self.release_slow = threading.Event()

    def disconnect_event(self, connection_id):
        with self.lock:
            return self.disconnected.setdefault(connection_id, threading.Event())

    def release(self):
        """Let every held request finish: no live-server thread stays blocked."""
        self.release_slow.set()
        if self.hold_connect is not None:
            self.hold_connect.set()

    @hookimpl
    def apigw_ws_authorize_connect(self, context):
        self.connect_headers[context.connection_id] = dict(context.event.headers)
        self.connect_started.set()
        if self.hold_connect is not None:
            self.hold_connect.wait(TIMEOUT)
        return False if self.refuse_connect else None

    @hookimpl
    def apigw_ws_on_disconnect(self, session):
        self.disconnect_event(session.connection_id).set()

    @hookimpl
    def apigw_ws_register_handlers(self, register):
        register(self.headers, name="headers")
        register(self.slow, name="slow")

    def headers(self, ctx):
        """Answer with the headers Django saw."""
        return dict(ctx.event.headers)

    def slow(self, ctx):
        """Answer only once the test releases it."""
        self.release_slow.wait(TIMEOUT)
        return {"slow": "done"}


@pytest.fixture
def django_side(ws_plugins):
    side = DjangoSide()
    ws_plugins.add(side, name="devgateway-tests")
    yield side
    side.release()
