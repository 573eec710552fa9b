"""End to end: a real WebSocket handshake through the local gateway to a live Django.

The browser-side facts a Django test client cannot show: the Cookie and subprotocol
headers reach Django through the gateway, and the handshake's chosen subprotocol is the
one the connect response echoed.
"""

import aiohttp
import pytest
from django.test import Client

from apigw_ws.contrib.django.models import WebSocketSession
from tests.devgateway.conftest import run

from ..conftest import fetch_token, session_key, unspent

pytestmark = pytest.mark.usefixtures("tokens_on")


def test_a_browser_connects_with_a_subprotocol_token(start_gateway, live_django, user):
    gateway = start_gateway()
    page = Client()
    page.force_login(user)
    token = fetch_token(page)
    cookie = f"sessionid={session_key(page)}"

    async def scenario():
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(
                gateway.ws_url,
                protocols=("apigw_ws", f"apigw_ws.token.{token}"),
                headers={"Origin": live_django.url, "Cookie": cookie},
            ) as ws,
        ):
            protocol = ws.protocol
            (connection_id,) = gateway.connection_ids()
            await ws.close()
            return protocol, connection_id

    protocol, connection_id = run(scenario())
    assert protocol == "apigw_ws"
    assert WebSocketSession.objects.get(connection_id=connection_id).user == user
    assert not unspent(token)


def test_a_spent_token_fails_the_handshake(start_gateway, live_django, user):
    gateway = start_gateway()
    page = Client()
    page.force_login(user)
    token = fetch_token(page)
    cookie = f"sessionid={session_key(page)}"

    async def handshake():
        async with aiohttp.ClientSession() as http:
            try:
                async with http.ws_connect(
                    gateway.ws_url + f"?ws_token={token}",
                    headers={"Origin": live_django.url, "Cookie": cookie},
                ) as ws:
                    await ws.close()
                    return 101
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status

    assert run(handshake()) == 101
    assert run(handshake()) == 403
    assert WebSocketSession.objects.count() == 1
