"""Fixtures for the sending tests: the local gateway's Management API, for real.

Recipients are the gateway's sink connections (``DevGateway.open_sinks``): open as far
as the Management API is concerned, each counting the messages posted to it, so a test
can check that every recipient got its message exactly once. Ids the gateway never
opened are answered 410, as AWS answers for a vanished connection.
"""

import datetime
from contextlib import ExitStack

import pytest
from django.utils import timezone

from apigw_ws.contrib.django.models import ApiGateway, WebSocketSession
from apigw_ws.devgateway import Faults, run_in_thread
from apigw_ws.sending import Endpoint, Recipient
from apigw_ws.sending.sender import TRANSPORT_ENV
from apigw_ws.testing.client import new_connection_id

#: Sinks never post to the backend: nothing listens here, and nothing needs to.
NO_BACKEND = "http://127.0.0.1:9/ws/"
REGION = "us-east-1"


def clear_clients():
    from apigw_ws.sending import management_client
    from apigw_ws.sending.signing import management_signer

    management_client.cache_clear()
    management_signer.cache_clear()


@pytest.fixture(autouse=True)
def _reach_the_local_gateway(ws_network):
    """These tests send to the project's local gateway on loopback, for real."""


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch):
    """Any credentials: requests are signed, the local gateway never checks them."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    clear_clients()
    yield
    clear_clients()


@pytest.fixture(autouse=True, params=["boto3", "aiohttp"])
def transport(request, monkeypatch):
    """Every sending test runs with each transport (the default of every ``Sender``).

    Set through the environment, so ``ws_send`` and the task worker's process use it too.
    """
    monkeypatch.setenv(TRANSPORT_ENV, request.param)
    return request.param


@pytest.fixture
def start_gateway():
    """Return ``start(stage="local", **faults)``: a local gateway on a free port."""
    stack = ExitStack()

    def start(stage="local", api_id="local", max_payload_bytes=131072, **faults):
        return stack.enter_context(
            run_in_thread(
                target=NO_BACKEND,
                port=0,
                stage=stage,
                api_id=api_id,
                max_payload_bytes=max_payload_bytes,
                faults=Faults(**faults),
            )
        )

    with stack:
        yield start


@pytest.fixture
def gateway(start_gateway):
    return start_gateway()


def endpoint_of(gateway):
    return Endpoint(gateway.management_url, REGION)


def received(gateway, connection_id):
    """Return how many messages the sink ``connection_id`` got (0 once it is closed)."""
    connection = gateway.table.get(connection_id)
    return 0 if connection is None else connection.ws.messages


def unknown_ids(count):
    """Return ids the gateway never opened: the Management API answers 410 for them."""
    return [new_connection_id() for _ in range(count)]


def to(gateway, ids):
    endpoint = endpoint_of(gateway)
    return [Recipient(cid, endpoint) for cid in ids]


#: Old enough that a 410 means gone (younger sessions may still be connecting).
OLD = datetime.timedelta(minutes=5)


@pytest.fixture
def row(db):
    return ApiGateway.objects.create(
        api_name="local", api_id="local", stage_name="local", region="us-east-1"
    )


@pytest.fixture
def local(gateway, settings):
    """The gateway, with ``ENDPOINT_URL`` pointing at it."""
    settings.APIGW_WS = {**settings.APIGW_WS, "ENDPOINT_URL": gateway.endpoint_url}
    return gateway


def make_sessions(row, ids, *, channel="", user=None, age=OLD, connected=True):
    now = timezone.now()
    return WebSocketSession.objects.bulk_create(
        WebSocketSession(
            connection_id=cid,
            api_gateway=row,
            channel_name=channel,
            user=user,
            connected=connected,
            connected_at=now - age,
        )
        for cid in ids
    )


def connected_ids():
    return set(
        WebSocketSession.objects.filter(connected=True).values_list("connection_id", flat=True)
    )
