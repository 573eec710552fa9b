"""N concurrent connects with one token on PostgreSQL: exactly one opens a connection.

Real threads, each with its own database connection, against a real PostgreSQL: the
conditional ``UPDATE`` that spends the token is the only thing that serialises them.
SQLite serialises every writer itself, so it would prove nothing here.
"""

import os
import threading

import pytest
from django.db import connection, connections
from django.test import Client

from apigw_ws.contrib.django.models import WebSocketSession
from apigw_ws.testing import GatewayClient
from tests.conftest import require_service
from tests.settings import TEST_GATEWAY_SECRET

from .conftest import fetch_token, session_key, unspent

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("tokens_on"),
]

THREADS = 8


@pytest.fixture
def postgres():
    # Deselected on SQLite (the postgres marker): SQLite serialises writers itself.
    assert connection.vendor == "postgresql"
    require_service(
        "PostgreSQL", os.environ.get("PGHOST", "127.0.0.1"), int(os.environ.get("PGPORT", 5432))
    )


@pytest.mark.usefixtures("postgres")
def test_one_token_opens_exactly_one_of_many_concurrent_connects(ws_gateway, logged_in):
    token = fetch_token(logged_in)
    cookie = session_key(logged_in)
    start = threading.Barrier(THREADS)
    statuses = []

    def connect():
        browser = Client()
        browser.cookies["sessionid"] = cookie
        gateway = GatewayClient(browser, api_id=ws_gateway.api_id, secret=TEST_GATEWAY_SECRET)
        try:
            start.wait(timeout=30)
            statuses.append(gateway.connect(query={"ws_token": token}).response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=connect) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200] + [403] * (THREADS - 1)
    assert WebSocketSession.objects.count() == 1
    assert not unspent(token)
