"""Fixtures for the background fan-out tests: the local gateway's sinks as recipients.

The gateway, its credentials and the session helpers are the sending tests' (see
``tests/sending/conftest.py``); the default transport is used here, not both.
"""

from pathlib import Path

import pytest

from apigw_ws.contrib.django.models import FanOutChunk, WebSocketSession
from tests.sending.conftest import (  # noqa: F401 - fixtures
    aws_credentials,
    gateway,
    local,
    make_sessions,
    received,
    row,
    start_gateway,
    unknown_ids,
)

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    """These tests send to the project's local gateway on loopback, for real (``ws_network``),
    except those that ask for the in-memory outbox instead."""
    for item in items:
        if HERE in Path(item.path).parents and "ws_outbox" not in item.fixturenames:
            item.add_marker(pytest.mark.ws_network)


@pytest.fixture
def sessions(local, row):  # noqa: F811 - the imported fixtures
    """Return ``make(live, gone=0)``: sessions on sinks and on ids the gateway answers 410 for."""

    def make(live, gone=0):
        live_ids, gone_ids = local.open_sinks(live), unknown_ids(gone)
        make_sessions(row, live_ids + gone_ids)
        return live_ids, gone_ids

    return make


def counts(on, ids):
    return [received(on, cid) for cid in ids]


def pks_of(ids):
    return dict(
        WebSocketSession.objects.filter(connection_id__in=ids).values_list("connection_id", "pk")
    )


def chunk_rows(fanout):
    return list(FanOutChunk.objects.filter(fanout=fanout).order_by("number"))
